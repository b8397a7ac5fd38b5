//! Tests of the C# expression subset: literals, precedence, the library, `context`, run-time
//! errors, and every expression found in the APIM policy corpus.

use gatehouse_expr::{DateTime, ExprKind, MapContext, Value, eval, parse};

fn ctx() -> MapContext {
    let mut c = MapContext::new();
    c.set("Request.Method", "POST")
        .set("Request.Url.Scheme", "https")
        .set("Request.Url.Host", "api.example.com")
        .set("Request.Url.Port", 443)
        .set("Request.Url.Path", "/orders/42")
        .set("Request.Url.QueryString", "?a=1")
        .set("Request.IpAddress", "10.0.0.7")
        .set("Api.Name", "orders")
        .set("Operation.Name", "get-order")
        .set("Deployment.Region", "West Europe")
        .set("RequestId", "req-1")
        .header("Request", "Authorization", "Bearer abc.def")
        .entry("Request.MatchedParameters", "id", "42")
        .variable("status", "403")
        .variable("count", 3)
        .body_text(
            "Request",
            r#"{"name":"x","items":[1,2,3],"nested":{"k":"v"}}"#,
        );
    c.now = DateTime::from_parts(2024, 1, 2, 3, 4, 5, 0);
    c
}

fn run_in(src: &str, c: &mut MapContext) -> Value {
    let kind = if src.trim_start().starts_with('{') {
        ExprKind::Block
    } else {
        ExprKind::Single
    };
    let src = if kind == ExprKind::Block {
        let t = src.trim();
        &t[1..t.len() - 1]
    } else {
        src
    };
    let p = parse(src, kind).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    eval(&p, c).unwrap_or_else(|e| panic!("eval {src:?}: {e:?}"))
}

fn run(src: &str) -> Value {
    run_in(src, &mut ctx())
}

fn s(src: &str) -> String {
    match run(src) {
        Value::String(s) => s.to_string(),
        other => panic!("{src:?} gave {other:?}, not a string"),
    }
}

fn err(src: &str) -> String {
    let p = parse(src, ExprKind::Single).unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"));
    match eval(&p, &mut ctx()) {
        Ok(v) => panic!("{src:?} should fail, gave {v:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn literals() {
    assert_eq!(s(r#""a\tb\n\"q\"\\\u0041\x42""#), "a\tb\n\"q\"\\AB");
    assert_eq!(s(r#"@"c:\path ""x""""#), "c:\\path \"x\"");
    assert_eq!(s(r#"$"n={1+2}, s={"x"}, {{lit}}""#), "n=3, s=x, {lit}");
    assert_eq!(s(r#"$@"v=""{1}"" \n""#), "v=\"1\" \\n");
    assert_eq!(s(r#"$"{3.5:F2}|{7:D3}""#), "3.50|007");
    assert_eq!(run("'x'"), Value::Char('x'));
    assert_eq!(run(r"'\n'"), Value::Char('\n'));
    assert_eq!(run("42"), Value::Int(42));
    assert_eq!(run("42L"), Value::Int(42));
    assert_eq!(run("0xFF"), Value::Int(255));
    assert_eq!(run("1_000"), Value::Int(1000));
    assert_eq!(run("1.5"), Value::Double(1.5));
    assert_eq!(run("2d"), Value::Double(2.0));
    assert_eq!(run("1.5f"), Value::Double(1.5));
    assert_eq!(run("1e3"), Value::Double(1000.0));
    assert_eq!(run("3m"), Value::Double(3.0));
    assert_eq!(run("true"), Value::Bool(true));
    assert_eq!(run("false"), Value::Bool(false));
    assert_eq!(run("null"), Value::Null);
    assert_eq!(run("/* c */ 1 // tail"), Value::Int(1));
}

#[test]
fn precedence() {
    assert_eq!(run("1 + 2 * 3"), Value::Int(7));
    assert_eq!(run("(1 + 2) * 3"), Value::Int(9));
    assert_eq!(run("10 - 4 - 3"), Value::Int(3));
    assert_eq!(run("7 / 2"), Value::Int(3));
    assert_eq!(run("7 % 4"), Value::Int(3));
    assert_eq!(run("7 / 2.0"), Value::Double(3.5));
    assert_eq!(run("-2 * -3"), Value::Int(6));
    assert_eq!(run("1 < 2 == true"), Value::Bool(true));
    assert_eq!(run("true || false && false"), Value::Bool(true));
    assert_eq!(run("!false && true"), Value::Bool(true));
    assert_eq!(run("1 + 2 > 2 ? \"a\" : \"b\""), Value::str("a"));
    assert_eq!(run("null ?? null ?? 5"), Value::Int(5));
    assert_eq!(run("1 << 4 >> 2"), Value::Int(4));
    assert_eq!(run("6 & 3 | 8 ^ 1"), Value::Int(11));
    assert_eq!(run("\"a\" + 1 + 2"), Value::str("a12"));
    assert_eq!(run("1 + 2 + \"a\""), Value::str("3a"));
    assert_eq!(run("false ? 1 : true ? 2 : 3"), Value::Int(2));
}

#[test]
fn casts_as_is() {
    assert_eq!(run("(int)3.9"), Value::Int(3));
    assert_eq!(run("(double)3"), Value::Double(3.0));
    assert_eq!(
        run("(string)context.Variables[\"status\"]"),
        Value::str("403")
    );
    assert_eq!(run("(long)-5"), Value::Int(-5));
    assert_eq!(run("\"x\" as string"), Value::str("x"));
    assert_eq!(run("5 as string"), Value::Null);
    assert_eq!(run("\"x\" is string"), Value::Bool(true));
    assert_eq!(run("5 is string"), Value::Bool(false));
    assert_eq!(run("null is null"), Value::Bool(true));
    assert_eq!(run("5 is not null"), Value::Bool(true));
    assert_eq!(run("(char)65"), Value::Char('A'));
}

#[test]
fn strings() {
    assert_eq!(s("\"hello world\".Substring(6)"), "world");
    assert_eq!(s("\"hello world\".Substring(0, 5)"), "hello");
    assert_eq!(run("\"hello\".IndexOf(\"l\")"), Value::Int(2));
    assert_eq!(run("\"hello\".IndexOf('z')"), Value::Int(-1));
    assert_eq!(run("\"hello\".LastIndexOf(\"l\")"), Value::Int(3));
    assert_eq!(run("\"a,b,,c\".Split(',').Length"), Value::Int(4));
    assert_eq!(s("\"a,b;c\".Split(new[] {',', ';'})[2]"), "c");
    assert_eq!(
        run("\"a,,b\".Split(new[] {\",\"}, StringSplitOptions.RemoveEmptyEntries).Length"),
        Value::Int(2)
    );
    assert_eq!(s("\"aXbX\".Replace(\"X\", \"-\")"), "a-b-");
    assert_eq!(
        run("\"Bearer x\".StartsWith(\"Bearer\")"),
        Value::Bool(true)
    );
    assert_eq!(
        run("\"Bearer x\".StartsWith(\"bearer\", StringComparison.OrdinalIgnoreCase)"),
        Value::Bool(true)
    );
    assert_eq!(run("\"file.json\".EndsWith(\".json\")"), Value::Bool(true));
    assert_eq!(run("\"abc\".Contains(\"b\")"), Value::Bool(true));
    assert_eq!(s("\"AbC\".ToLower() + \"AbC\".ToUpper()"), "abcABC");
    assert_eq!(s("\"  x  \".Trim()"), "x");
    assert_eq!(s("\"--x--\".Trim('-')"), "x");
    assert_eq!(s("\"  x\".TrimStart() + \"x  \".TrimEnd()"), "xx");
    assert_eq!(run("\"héllo\".Length"), Value::Int(5));
    assert_eq!(s("String.Format(\"{0}-{1}\", \"a\", 2)"), "a-2");
    assert_eq!(s("string.Format(\"{0,3}|{1:X}\", 1, 255)"), "  1|FF");
    assert_eq!(s("string.Join(\",\", new[] {\"a\", \"b\"})"), "a,b");
    assert_eq!(s("string.Join(\"-\", \"a\", \"b\", \"c\")"), "a-b-c");
    assert_eq!(run("String.IsNullOrEmpty(\"\")"), Value::Bool(true));
    assert_eq!(run("string.IsNullOrEmpty(null)"), Value::Bool(true));
    assert_eq!(run("string.IsNullOrEmpty(\"a\")"), Value::Bool(false));
    assert_eq!(run("string.IsNullOrWhiteSpace(\" \")"), Value::Bool(true));
    assert_eq!(
        run("\"East US\".Equals(\"east us\", System.StringComparison.InvariantCultureIgnoreCase)"),
        Value::Bool(true)
    );
    assert_eq!(run("\"a\".Equals(\"A\")"), Value::Bool(false));
    assert_eq!(
        run("string.Equals(\"a\", \"A\", StringComparison.OrdinalIgnoreCase)"),
        Value::Bool(true)
    );
    assert_eq!(s("\"7\".PadLeft(3, '0')"), "007");
    assert_eq!(run("\"abc\"[1]"), Value::Char('b'));
    assert_eq!(s("new string('a', 3)"), "aaa");
    assert_eq!(s("string.Concat(\"a\", \"b\")"), "ab");
}

#[test]
fn convert_encoding_numbers() {
    assert_eq!(
        s("Convert.ToBase64String(Encoding.UTF8.GetBytes(\"hello\"))"),
        "aGVsbG8="
    );
    assert_eq!(
        s("Encoding.UTF8.GetString(Convert.FromBase64String(\"aGVsbG8=\"))"),
        "hello"
    );
    assert_eq!(
        s("System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(\"aGk=\"))"),
        "hi"
    );
    assert_eq!(run("Convert.ToInt32(\"12\")"), Value::Int(12));
    assert_eq!(run("Convert.ToInt32(2.5)"), Value::Int(2));
    assert_eq!(
        run("Convert.ToInt64(\"9000000000\")"),
        Value::Long(9_000_000_000)
    );
    assert_eq!(s("Convert.ToString(5)"), "5");
    assert_eq!(run("int.Parse(\"-7\")"), Value::Int(-7));
    assert_eq!(
        run("long.Parse(\"9000000000\")"),
        Value::Long(9_000_000_000)
    );
    assert_eq!(run("double.Parse(\"1.25\")"), Value::Double(1.25));
    assert_eq!(run("bool.Parse(\"True\")"), Value::Bool(true));
    assert_eq!(s("(1.5).ToString()"), "1.5");
    assert_eq!(s("true.ToString()"), "True");
    assert_eq!(s("3.0.ToString()"), "3");
    assert_eq!(s("12.ToString(\"D4\")"), "0012");
    assert_eq!(run("Math.Max(3, 7)"), Value::Int(7));
    assert_eq!(run("Math.Abs(-2)"), Value::Int(2));
    assert_eq!(run("Math.Floor(2.7)"), Value::Double(2.0));
    assert_eq!(run("Math.Ceiling(2.1)"), Value::Double(3.0));
    assert_eq!(run("Math.Round(2.5)"), Value::Double(2.0));
    assert_eq!(run("Math.Pow(2, 10)"), Value::Double(1024.0));
    assert_eq!(run("int.MaxValue"), Value::Int(2_147_483_647));
}

#[test]
fn datetime_timespan_guid() {
    assert_eq!(
        s("DateTime.UtcNow.ToString(\"o\")"),
        "2024-01-02T03:04:05.0000000Z"
    );
    assert_eq!(
        s("DateTime.UtcNow.ToString(\"R\")"),
        "Tue, 02 Jan 2024 03:04:05 GMT"
    );
    assert_eq!(
        s("DateTime.UtcNow.AddDays(1).ToString(\"yyyy-MM-ddTHH:mm:ssZ\")"),
        "2024-01-03T03:04:05Z"
    );
    assert_eq!(
        s("DateTime.Now.AddSeconds(55).ToString(\"s\")"),
        "2024-01-02T03:05:00"
    );
    assert_eq!(
        s("DateTime.UtcNow.AddMonths(1).ToString(\"yyyy-MM-dd\")"),
        "2024-02-02"
    );
    assert_eq!(
        run("DateTime.Parse(\"2024-01-02T03:04:05Z\") == DateTime.UtcNow"),
        Value::Bool(true)
    );
    // An offset in the text: the instant in local time (the gateway's zone, UTC), kind
    // Local, as Mono gives it on a UTC host.
    assert_eq!(
        s("DateTime.Parse(\"2024-01-02T05:04:05+02:00\").ToString(\"o\")"),
        "2024-01-02T03:04:05.0000000+00:00"
    );
    assert_eq!(run("DateTime.UtcNow.Year"), Value::Int(2024));
    assert_eq!(
        run("(int)(DateTime.UtcNow - new DateTime(1970, 1, 1)).TotalSeconds"),
        Value::Int(1_704_164_645)
    );
    assert_eq!(
        run("new DateTimeOffset(DateTime.UtcNow).ToUnixTimeSeconds()"),
        Value::Int(1_704_164_645)
    );
    assert_eq!(
        run("TimeSpan.FromMinutes(2).TotalSeconds"),
        Value::Double(120.0)
    );
    assert_eq!(s("TimeSpan.FromSeconds(3661).ToString()"), "01:01:01");
    assert_eq!(
        run("(DateTime.UtcNow.AddHours(2) - DateTime.UtcNow).Hours"),
        Value::Int(2)
    );
    assert_eq!(
        run("DateTime.UtcNow < DateTime.UtcNow.AddTicks(1)"),
        Value::Bool(true)
    );
    assert_eq!(run("Guid.NewGuid().ToString().Length"), Value::Int(36));
    assert_eq!(run("Guid.NewGuid() != Guid.NewGuid()"), Value::Bool(true));
    assert_eq!(
        s("Guid.Parse(\"00000000-0000-0000-0000-0000000000ff\").ToString(\"N\")"),
        "000000000000000000000000000000ff"
    );
}

#[test]
fn regex() {
    assert_eq!(
        run("Regex.IsMatch(\"abc123\", @\"\\d+\")"),
        Value::Bool(true)
    );
    assert_eq!(
        run("Regex.IsMatch(\"ABC\", \"^abc$\", RegexOptions.IgnoreCase)"),
        Value::Bool(true)
    );
    assert_eq!(
        s("Regex.Match(\"id=42;\", @\"id=(\\d+)\").Groups[1].Value"),
        "42"
    );
    assert_eq!(
        s("Regex.Match(\"id=42;\", @\"id=(?<n>\\d+)\").Groups[\"n\"].Value"),
        "42"
    );
    assert_eq!(run("Regex.Match(\"x\", \"y\").Success"), Value::Bool(false));
    assert_eq!(s("Regex.Replace(\"a1b22\", @\"\\d+\", \"#\")"), "a#b#");
    assert_eq!(
        s("System.Text.RegularExpressions.Regex.Replace(\"ab\", \"(a)(b)\", \"$2$1\")"),
        "ba"
    );
}

#[test]
fn linq() {
    assert_eq!(
        run("new[] {1, 2, 3}.Where(x => x > 1).Count()"),
        Value::Int(2)
    );
    assert_eq!(
        run("new[] {1, 2, 3}.Select(x => x * 10).ToArray()[2]"),
        Value::Int(30)
    );
    assert_eq!(run("new[] {1, 2, 3}.Any(x => x == 2)"), Value::Bool(true));
    assert_eq!(run("new[] {1, 2, 3}.Any()"), Value::Bool(true));
    assert_eq!(run("new[] {1, 2, 3}.All(x => x > 0)"), Value::Bool(true));
    assert_eq!(run("new[] {1, 2, 3}.First()"), Value::Int(1));
    assert_eq!(run("new[] {1, 2, 3}.First(x => x > 1)"), Value::Int(2));
    // default(int), as C# gives (checked with Mono); a string sequence gives null.
    assert_eq!(
        run("new[] {1, 2, 3}.FirstOrDefault(x => x > 5)"),
        Value::Int(0)
    );
    assert_eq!(
        run("new[] {\"a\"}.FirstOrDefault(x => x == \"b\")"),
        Value::Null
    );
    assert_eq!(run("new[] {1, 2, 3}.Count(x => x != 2)"), Value::Int(2));
    assert_eq!(
        run("new[] {1, 2, 3}.ToList().Contains(3)"),
        Value::Bool(true)
    );
    assert_eq!(
        run("new[] {3, 1, 2}.OrderBy(x => x).First()"),
        Value::Int(1)
    );
    assert_eq!(run("new[] {1, 2, 3}.Sum()"), Value::Int(6));
    assert_eq!(
        run("new[] {1, 2, 3}.Select((x, i) => x * i).Sum()"),
        Value::Int(8)
    );
    assert_eq!(
        s("string.Join(\",\", \"a b c\".Split(' ').Select(p => p.ToUpper()))"),
        "A,B,C"
    );
    assert_eq!(
        s(
            "{ var l = new List<string>(); l.Add(\"a\"); l.Add(\"b\"); return string.Join(\"+\", l); }"
        ),
        "a+b"
    );
}

#[test]
fn json() {
    assert_eq!(
        s("(string)JObject.Parse(\"{\\\"a\\\":\\\"b\\\"}\")[\"a\"]"),
        "b"
    );
    assert_eq!(
        run("(int)JObject.Parse(\"{\\\"a\\\":5}\")[\"a\"]"),
        Value::Int(5)
    );
    assert_eq!(
        run("JObject.Parse(\"{\\\"a\\\":5}\").Value<int>(\"a\")"),
        Value::Int(5)
    );
    assert_eq!(
        run("JObject.Parse(\"{\\\"a\\\":5}\")[\"missing\"]"),
        Value::Null
    );
    assert_eq!(
        s("context.Request.Body.As<JObject>(preserveContent: true)[\"nested\"][\"k\"].ToString()"),
        "v"
    );
    assert_eq!(
        run("context.Request.Body.As<JObject>()[\"items\"][1]"),
        Value::json(&serde_json::json!(2))
    );
    assert_eq!(
        run("((JArray)context.Request.Body.As<JObject>()[\"items\"]).Count"),
        Value::Int(3)
    );
    assert_eq!(s("new JObject().ToString(Formatting.None)"), "{}");
    assert_eq!(
        s(
            r#"{ var body = context.Request.Body.As<JObject>(preserveContent: true);
               body["added"] = "yes"; body["n"] = 2; body.Remove("items");
               body["nested"]["k2"] = true;
               return body.ToString(Newtonsoft.Json.Formatting.None); }"#
        ),
        // Newtonsoft's order: the document's properties, then those added, in turn.
        r#"{"name":"x","nested":{"k":"v","k2":true},"added":"yes","n":2}"#
    );
    assert_eq!(
        s("new JObject(new JProperty(\"a\", 1)).ToString()"),
        "{\n  \"a\": 1\n}"
    );
    assert_eq!(
        s("JsonConvert.SerializeObject(new { typ = \"JWT\", alg = \"HS256\" })"),
        // C# writes an anonymous object's members in declaration order.
        r#"{"typ":"JWT","alg":"HS256"}"#
    );
    assert_eq!(
        s("{ var o = new JObject(); o.Add(\"k\", \"v\"); return o.ToString(Formatting.None); }"),
        r#"{"k":"v"}"#
    );
    assert_eq!(
        s(
            "(string)JObject.Parse(\"{\\\"a\\\":{\\\"b\\\":[1,\\\"x\\\"]}}\").SelectToken(\"a.b[1]\")"
        ),
        "x"
    );
}

#[test]
fn crypto() {
    assert_eq!(
        s(
            "Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes(\"key\")).ComputeHash(Encoding.UTF8.GetBytes(\"The quick brown fox jumps over the lazy dog\")))"
        ),
        "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
    );
    assert_eq!(
        s("Convert.ToBase64String(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes(\"abc\")))"),
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
    assert_eq!(
        s("Convert.ToBase64String(MD5.Create().ComputeHash(Encoding.UTF8.GetBytes(\"abc\")))"),
        "kAFQmDzST7DWlj99KOF/cg=="
    );
    assert_eq!(
        s(
            "{ using (var h = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(\"key\"))) { return Convert.ToBase64String(h.ComputeHash(Encoding.UTF8.GetBytes(\"\"))); } }"
        ),
        "XV0TlWPJW1lnub2ajJsjOp3ttFByeUzSMtwbdIMmB9A="
    );
}

#[test]
fn context_access() {
    assert_eq!(s("context.Request.Method"), "POST");
    assert_eq!(s("context.Request.Url.Path"), "/orders/42");
    assert_eq!(
        s("context.Request.Url.ToString()"),
        "https://api.example.com/orders/42?a=1"
    );
    assert_eq!(
        s("context.Request.Headers.GetValueOrDefault(\"authorization\",\"\").Split(' ')[1]"),
        "abc.def"
    );
    assert_eq!(
        s("context.Request.Headers.GetValueOrDefault(\"X-Missing\", \"dflt\")"),
        "dflt"
    );
    assert_eq!(
        run("context.Request.Headers.GetValueOrDefault(\"X-Missing\")"),
        Value::Null
    );
    assert_eq!(
        run("context.Request.Headers.ContainsKey(\"Authorization\")"),
        Value::Bool(true)
    );
    assert_eq!(s("context.Request.IpAddress"), "10.0.0.7");
    assert_eq!(s("context.Request.MatchedParameters[\"id\"]"), "42");
    assert_eq!(
        run("context.Variables.GetValueOrDefault<int>(\"count\")"),
        Value::Int(3)
    );
    assert_eq!(
        run("context.Variables.GetValueOrDefault<int>(\"nope\", 9)"),
        Value::Int(9)
    );
    assert_eq!(
        run("context.Variables.GetValueOrDefault<bool>(\"nope\")"),
        Value::Bool(false)
    );
    assert_eq!(
        run("context.Variables.ContainsKey(\"status\")"),
        Value::Bool(true)
    );
    assert_eq!(
        run("(string)context.Variables[\"status\"] == \"403\""),
        Value::Bool(true)
    );
    assert_eq!(
        s("context.Api.Name + \"/\" + context.Operation.Name"),
        "orders/get-order"
    );
    assert_eq!(s("context.RequestId"), "req-1");
    assert_eq!(run("context.Response == null"), Value::Bool(true));
    assert_eq!(run("context.Subscription?.Id"), Value::Null);
    assert_eq!(
        run("context.Response != null && (context.Response.StatusCode == 404)"),
        Value::Bool(false)
    );
    assert_eq!(
        run(
            "context.Deployment.Region.Equals(\"west europe\", System.StringComparison.InvariantCultureIgnoreCase)"
        ),
        Value::Bool(true)
    );
}

#[test]
fn private_endpoint_connection() {
    let src = "context.Request.PrivateEndpointConnection?.Name ?? \"public\"";
    assert_eq!(s(src), "public");
    let mut c = ctx();
    c.set("Request.PrivateEndpointConnection.Name", "pe-1");
    assert_eq!(run_in(src, &mut c), Value::str("pe-1"));
    let p = parse(src, ExprKind::Single).expect("parses");
    let f = p.features();
    assert!(
        f.contains("context") && f.contains("null-conditional") && f.contains("null-coalescing"),
        "{f:?}"
    );
}

#[test]
fn statements() {
    assert_eq!(run("{ var x = 1; x += 2; x++; return x; }"), Value::Int(4));
    assert_eq!(run("{ int a = 1, b = 2; return a + b; }"), Value::Int(3));
    assert_eq!(
        s("{ if (1 > 2) { return \"a\"; } else if (true) return \"b\"; return \"c\"; }"),
        "b"
    );
    assert_eq!(
        run(
            "{ var t = 0; foreach (var i in new[] {1, 2, 3}) { if (i == 2) continue; t += i; } return t; }"
        ),
        Value::Int(4)
    );
    assert_eq!(
        run("{ var t = 0; for (var i = 0; i < 10; i++) { if (i == 5) break; t += i; } return t; }"),
        Value::Int(10)
    );
    assert_eq!(
        run("{ var n = 0; while (n < 3) n++; return n; }"),
        Value::Int(3)
    );
    assert_eq!(
        run("{ byte[] b = new byte[2]; b[1] = 7; return b[1] + b.Length; }"),
        Value::Int(9)
    );
    assert_eq!(
        run("{ string s = null; s ??= \"x\"; return s; }"),
        Value::str("x")
    );
    assert_eq!(
        s(
            r#"{ var code = context.Request.MatchedParameters.GetValueOrDefault("id");
              var key = "k"; return $"https://maps/json?address={code}&key={key}"; }"#
        ),
        "https://maps/json?address=42&key=k"
    );
}

#[test]
fn runtime_errors() {
    assert_eq!(
        err("((string)null).Length"),
        "Object reference not set to an instance of an object."
    );
    assert_eq!(
        err("context.Response.StatusCode"),
        "Object reference not set to an instance of an object."
    );
    assert!(err("(int)\"x\"").starts_with("Unable to cast object of type 'System.String'"));
    assert_eq!(
        err("new[] {1}[3]"),
        "Index was outside the bounds of the array."
    );
    assert!(err("\"abc\".Substring(5)").contains("startIndex"));
    assert!(err("context.Request.Nope").contains("does not contain a definition for 'Nope'"));
    assert!(err("\"x\".Frobnicate()").contains("does not contain a definition for 'Frobnicate'"));
    assert_eq!(err("1 / int.Parse(\"0\")"), "Attempted to divide by zero.");
    assert!(err("context.Variables[\"missing\"]").contains("was not present in the dictionary"));
    assert!(err("int.Parse(\"x\")").contains("not in a correct format"));
    assert!(err("Convert.FromBase64String(\"***\")").contains("Base-64"));
    assert!(err("JObject.Parse(\"[1]\")").contains("JObject"));
    assert!(err("undefinedName + 1").contains("does not exist"));
    let p = parse("while (true) { }", ExprKind::Block).expect("parses");
    let e = eval(&p, &mut ctx()).expect_err("budget");
    assert!(e.message.contains("budget"));
}

#[test]
fn parse_errors_never_panic() {
    let bad = [
        "",
        "(",
        ")",
        "\"unterminated",
        "@\"x",
        "$\"{",
        "$\"{}\"",
        "'",
        "''",
        "'ab'",
        "1 +",
        "a.",
        "new",
        "new[]",
        "x =>",
        "(int)",
        "a ? b",
        "{",
        "}",
        "@",
        "$",
        "0x",
        "99999999999999999999",
        "\\u",
        "/* ",
        "a[",
        "a(",
        "f(x:",
        "(a,b)",
        "x is",
        "x as",
        "\u{0}",
        "é",
        "💥",
        "$@\"{\"x\"",
        "new byte[",
        "try { } catch { }",
        "a ?. b",
        "@{",
        "1..2",
        "\"\\q\"",
    ];
    for b in bad {
        let _ = parse(b, ExprKind::Single);
        let _ = parse(b, ExprKind::Block);
    }
    let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
    assert!(parse(&deep, ExprKind::Single).is_err());
    let long = vec!["1"; 20_000].join("+");
    assert!(parse(&long, ExprKind::Single).is_err());
    let chain = "a".to_string() + &".b".repeat(20_000);
    assert!(parse(&chain, ExprKind::Single).is_err());
    // `try` and `do` are supported now (tests/statements.rs); `goto` still is not.
    let e = parse("goto end; return 1;", ExprKind::Block).expect_err("unsupported");
    assert_eq!(e.unsupported.as_deref(), Some("goto statement"));
    let e = parse("1 + + ", ExprKind::Single).expect_err("error");
    assert_eq!(e.offset, 6);
    // Every prefix of a real expression must fail or succeed cleanly.
    let real = r#"{ var body = context.Request.Body.As<JObject>(preserveContent: true); foreach (var p in body["a"]) { if (p is JObject o && (string)o["x"] == $"{p}") return o?.ToString() ?? 'c'.ToString(); } return body.ToString(); }"#;
    for i in 0..real.len() {
        if real.is_char_boundary(i) {
            let _ = parse(&real[..i], ExprKind::Block);
            let _ = parse(&real[..i], ExprKind::Single);
        }
    }
}

/// Finds `@(…)` and `@{…}` in a policy file with a balanced scan that skips string literals.
fn extract(text: &str) -> Vec<(ExprKind, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'@' && (b[i + 1] == b'(' || b[i + 1] == b'{') {
            let (open, close) = if b[i + 1] == b'(' {
                (b'(', b')')
            } else {
                (b'{', b'}')
            };
            let mut depth = 0;
            let mut j = i + 1;
            let mut in_str = false;
            let mut end = None;
            while j < b.len() {
                let c = b[j];
                if in_str {
                    if c == b'\\' {
                        j += 1;
                    } else if c == b'"' {
                        in_str = false;
                    }
                } else if c == b'"' {
                    in_str = true;
                } else if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                j += 1;
            }
            if let Some(e) = end
                && let Some(inner) = text.get(i + 2..e)
            {
                let kind = if open == b'(' {
                    ExprKind::Single
                } else {
                    ExprKind::Block
                };
                out.push((kind, inner.to_string()));
                i = e;
            }
        }
        i += 1;
    }
    out
}

fn unescape_xml(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[test]
fn corpus_expressions_parse() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policy/tests/corpus"
    ));
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("corpus not present; skipping");
        return;
    };
    let mut total = 0;
    let mut failures = Vec::new();
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (kind, src) in extract(&text) {
            total += 1;
            let src = unescape_xml(&src);
            if let Err(e) = parse(&src, kind) {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                let snippet: String = src
                    .chars()
                    .skip(e.offset.saturating_sub(20))
                    .take(60)
                    .collect();
                failures.push(format!(
                    "{name}: {} [{:?}] near {:?}",
                    e.message, e.unsupported, snippet
                ));
            }
        }
    }
    eprintln!(
        "corpus: {} of {} expressions parse",
        total - failures.len(),
        total
    );
    for f in &failures {
        eprintln!("  FAIL {f}");
    }
    assert!(total > 50, "found only {total} expressions");
    // Known, named gaps are listed in the report; the rest must parse.
    assert!(
        failures.len() * 10 <= total,
        "too many corpus failures: {}",
        failures.len()
    );
}

#[test]
fn local_functions() {
    // Declared before use, with a block body and typed parameters.
    assert_eq!(
        run("{ int Twice(int x) { return x * 2; } return Twice(21); }"),
        Value::Int(42)
    );
    // Expression-bodied, called before its declaration (C# hoists local functions).
    assert_eq!(
        s("{ var r = Greet(\"bob\"); string Greet(string n) => \"hi \" + n; return r; }"),
        "hi bob"
    );
    // Calling one another, `static`, `void` with a side effect on a dictionary-free local.
    assert_eq!(
        run(
            "{ static int Sq(int x) => x * x; int SumSq(int a, int b) { return Sq(a) + Sq(b); } return SumSq(3, 4); }"
        ),
        Value::Int(25)
    );
    // Declared return types convert like C#: `int` wraps at 32 bits, `short` at 16.
    assert_eq!(
        run("{ int Shl(int x) { return x << 16; } return Shl(0xFFFF); }"),
        Value::Int(-65536)
    );
    assert_eq!(
        run("{ short S(int x) { return (short)x; } return S(0x1FFFF); }"),
        Value::Int(-1)
    );
    // Parameters shadow outer locals; outer locals stay untouched.
    assert_eq!(
        run("{ var x = 1; int F(int x) { return x + 10; } return F(5) + x; }"),
        Value::Int(16)
    );
    // A delegate in a local can be called too.
    assert_eq!(
        run("{ Func<int, int> inc = v => v + 1; return inc(inc(1)); }"),
        Value::Int(3)
    );
    // Recursion works within the call-depth bound ...
    assert_eq!(
        run(
            "{ int Fact(int n) { if (n <= 1) return 1; return n * Fact(n - 1); } return Fact(10); }"
        ),
        Value::Int(3_628_800)
    );
    // ... and unbounded recursion is an error, not a stack overflow.
    let p = parse(
        "int F(int n) { return F(n + 1); } return F(0);",
        ExprKind::Block,
    )
    .expect("parses");
    let e = eval(&p, &mut ctx()).expect_err("too deep");
    assert_eq!(e.kind, "InsufficientExecutionStackException");
    // Wrong arity is an error.
    let p = parse("int F(int n) => n; return F(1, 2);", ExprKind::Block).expect("parses");
    assert!(
        eval(&p, &mut ctx())
            .expect_err("arity")
            .message
            .contains("No overload for method 'F' takes 2 arguments")
    );
}

/// The whole block of the corpus file "Filter on IP Address when using Application
/// Gateway.policy.xml" (named value substituted), run for addresses inside and outside the
/// configured ranges.
#[test]
fn ip_filter_corpus_expression() {
    let src = r#"
            int HostToNetworkOrder(int host)
            {
                return (((int)HostToNetworkOrderShort((short)host) & 0xFFFF) << 16)
                    | ((int)HostToNetworkOrderShort((short)(host >> 16)) & 0xFFFF);
            }
            short HostToNetworkOrderShort(short host)
            {
                return (short)((((int)host & 0xFF) << 8) | (int)((host >> 8) & 0xFF));
            }
            string ipAddress = context.Request.Headers.GetValueOrDefault("x-forwarded-for","");
            if (!string.IsNullOrEmpty(ipAddress))
            {
                string[] tokens = ipAddress.Split(':');
                if(tokens.Length == 2)
                { ipAddress = tokens[0]; }
                List<string> cidrList = new List<string>(){
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "192.168.0.0/16"
                };
                foreach (string cidrAddress in cidrList)
                {
                    string[] cidrParts = cidrAddress.Split('/');
                    string[] inputIPParts = ipAddress.Split('.');
                    string[] cidrIPArray = cidrParts[0].Split('.');
                    if (inputIPParts.Length == 4 && cidrIPArray.Length == 4)
                    {
                        byte[] inputIPBytes = new byte[] {Convert.ToByte(int.Parse(inputIPParts[0])),
                            Convert.ToByte(int.Parse(inputIPParts[1])),
                            Convert.ToByte(int.Parse(inputIPParts[2])),
                            Convert.ToByte(int.Parse(inputIPParts[3])), };
                        byte[] cidrIPBytes = new byte[] {Convert.ToByte(int.Parse(cidrIPArray[0])),
                            Convert.ToByte(int.Parse(cidrIPArray[1])),
                            Convert.ToByte(int.Parse(cidrIPArray[2])),
                            Convert.ToByte(int.Parse(cidrIPArray[3])), };
                        int cidrAddr = BitConverter.ToInt32(inputIPBytes,0);
                        int ipAddr = BitConverter.ToInt32(cidrIPBytes,0);
                        var host = int.Parse(cidrParts[1]);
                        host = -1 << (32-host);
                        var mask = HostToNetworkOrder(host);
                        if (((ipAddr & mask) == (cidrAddr & mask)))
                        {
                            return "validated";
                        }
                    }
                }
            }
            return ipAddress;"#;
    let p = parse(src, ExprKind::Block).expect("parses");
    let check = |xff: &str| {
        let mut c = ctx();
        c.header("Request", "X-Forwarded-For", xff);
        match eval(&p, &mut c).expect("runs") {
            Value::String(s) => s.to_string(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(check("10.33.215.173"), "validated");
    assert_eq!(check("10.1.2.3:5555"), "validated");
    assert_eq!(check("172.16.0.1"), "validated");
    assert_eq!(check("172.31.255.255"), "validated");
    assert_eq!(check("172.32.0.1"), "172.32.0.1");
    assert_eq!(check("192.168.10.20"), "validated");
    assert_eq!(check("192.169.0.1"), "192.169.0.1");
    assert_eq!(check("8.8.8.8:443"), "8.8.8.8");
    assert_eq!(check(""), "");
    assert_eq!(
        run("BitConverter.ToInt32(new byte[] {1, 2, 0, 128}, 0)"),
        Value::Int(-2147483135)
    );
    assert_eq!(
        s("BitConverter.ToString(BitConverter.GetBytes(258))"),
        "02-01-00-00"
    );
    assert_eq!(
        err("Convert.ToByte(256)"),
        "Value was either too large or too small for an unsigned byte."
    );
}

#[test]
fn out_arguments() {
    assert_eq!(
        run("{ if (int.TryParse(\"42\", out var n)) { return n + 1; } return -1; }"),
        Value::Int(43)
    );
    // The out variable lives on in the enclosing scope, with default(T) on failure.
    assert_eq!(
        run("{ var ok = int.TryParse(\"x\", out int n); return ok ? -1 : n; }"),
        Value::Int(0)
    );
    assert_eq!(
        run("{ int.TryParse(\"7\", out var a); return a; }"),
        Value::Int(7)
    );
    assert_eq!(
        run("{ return int.TryParse(\"99999999999\", out var n); }"),
        Value::Bool(false)
    );
    assert_eq!(
        run("{ return long.TryParse(\"99999999999\", out long n) ? n : 0; }"),
        Value::Long(99_999_999_999)
    );
    assert_eq!(
        run("{ double.TryParse(\"2.5\", out var d); return d * 2; }"),
        Value::Double(5.0)
    );
    assert_eq!(
        run("{ return bool.TryParse(\"True\", out var b) && b; }"),
        Value::Bool(true)
    );
    assert_eq!(
        s(
            "{ Guid g; if (!Guid.TryParse(\"not a guid\", out g)) return g.ToString(); return \"?\"; }"
        ),
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(
        run("{ return DateTime.TryParse(\"2024-05-06T07:08:09Z\", out var t) ? t.Year : 0; }"),
        Value::Int(2024)
    );
    assert_eq!(
        run("{ string s = null; return int.TryParse(s, out _); }"),
        Value::Bool(false)
    );
    // In a lambda / condition, inside LINQ.
    assert_eq!(
        run("new[] {\"1\", \"x\", \"3\"}.Where(v => int.TryParse(v, out var _n)).Count()"),
        Value::Int(2)
    );
    // JObject.TryGetValue and the context dictionaries.
    assert_eq!(
        s(
            r#"{ var o = JObject.Parse("{\"a\":\"b\"}"); return o.TryGetValue("a", out JToken v) ? (string)v : "none"; }"#
        ),
        "b"
    );
    assert_eq!(
        run(
            r#"{ var o = JObject.Parse("{}"); return o.TryGetValue("a", out var v) || v != null; }"#
        ),
        Value::Bool(false)
    );
    assert_eq!(
        s(
            r#"{ object v; if (context.Variables.TryGetValue("status", out v)) return (string)v; return "-"; }"#
        ),
        "403"
    );
    assert_eq!(
        run(r#"{ return context.Variables.TryGetValue("nope", out var v); }"#),
        Value::Bool(false)
    );
}

#[test]
fn switch_statements_and_expressions() {
    let f = |v: &str| {
        s(&format!(
            r#"{{ var r = "";
                switch ("{v}") {{
                    case "a": r = "A"; break;
                    case "b":
                    case "c": r = "BC"; break;
                    case "r": return "returned";
                    default: r = "other"; break;
                }}
                return r; }}"#
        ))
    };
    assert_eq!(f("a"), "A");
    assert_eq!(f("b"), "BC");
    assert_eq!(f("c"), "BC");
    assert_eq!(f("r"), "returned");
    assert_eq!(f("zzz"), "other");
    // Numbers, no default, `break` inside a loop body in a section leaves the switch only.
    assert_eq!(
        run(
            "{ var t = 0; foreach (var i in new[] {1, 2, 3, 4}) { switch (i % 2) { case 0: t += 10; break; case 1: t += 1; break; } } return t; }"
        ),
        Value::Int(22)
    );
    assert_eq!(
        run("{ var t = 5; switch (t) { case 1: t = 0; break; } return t; }"),
        Value::Int(5)
    );
    // Type and relational patterns, guards.
    assert_eq!(
        s(
            "{ object o = 5; switch (o) { case string str: return \"s\" + str; case int n when n > 3: return \"big\"; default: return \"d\"; } }"
        ),
        "big"
    );
    // Switch expressions.
    assert_eq!(
        run("\"b\" switch { \"a\" => 1, \"b\" => 2, _ => 0 }"),
        Value::Int(2)
    );
    assert_eq!(run("\"q\" switch { \"a\" => 1, _ => 0 }"), Value::Int(0));
    assert_eq!(
        s(
            "context.Request.Method switch { \"GET\" or \"HEAD\" => \"read\", \"POST\" => \"write\", _ => \"?\" }"
        ),
        "write"
    );
    assert_eq!(
        s(
            "(int)context.Variables[\"count\"] switch { < 0 => \"neg\", 0 => \"zero\", > 0 and < 10 => \"small\", _ => \"big\" }"
        ),
        "small"
    );
    assert_eq!(run("1 + 2 switch { 2 => 10, _ => 20 }"), Value::Int(11));
    assert_eq!(
        s("{ string v = null; return v switch { null => \"null\", _ => \"x\" }; }"),
        "null"
    );
    assert_eq!(
        run("5 switch { var n when n > 4 => n * 2, _ => 0 }"),
        Value::Int(10)
    );
    let e = err("3 switch { 1 => 1 }");
    assert!(e.contains("Non-exhaustive"), "{e}");
}

/// Recursion bounded by the call depth, each call evaluating an expression nested as deep as
/// the parser allows, must fit in a test thread's stack (2 MiB).
#[test]
fn deep_recursion_with_deep_expressions_does_not_overflow() {
    let mut deep = String::from("n");
    for _ in 0..25 {
        deep = format!("({deep} + 0)");
    }
    let src = format!("int F(int n) {{ return n <= 0 ? 0 : F({deep} - 1) + 1; }} return F(1000);");
    let p = parse(&src, ExprKind::Block).expect("parses");
    let e = eval(&p, &mut ctx()).expect_err("too deep");
    assert_eq!(e.kind, "InsufficientExecutionStackException");
}

#[test]
fn linq_to_xml() {
    let mut c = ctx();
    c.body_text(
        "Request",
        r#"<?xml version="1.0"?>
<order id="7" xmlns:x="urn:x">
  <item sku="a1"><name>Pen</name><qty>2</qty></item>
  <item sku="b2"><name>Ink &amp; more</name><qty>5</qty></item>
  <x:note>hello</x:note>
  <empty/>
</order>"#,
    );
    let mut r = |src: &str| run_in(src, &mut c);
    assert_eq!(
        r("context.Request.Body.As<XElement>(preserveContent: true).Attribute(\"id\").Value"),
        Value::str("7")
    );
    assert_eq!(
        r("context.Request.Body.As<XDocument>(preserveContent: true).Root.Name.LocalName"),
        Value::str("order")
    );
    assert_eq!(
        r("context.Request.Body.As<XElement>(preserveContent: true).Elements(\"item\").Count()"),
        Value::Int(2)
    );
    assert_eq!(
        r(
            "string.Join(\",\", context.Request.Body.As<XElement>(preserveContent: true).Descendants(\"name\").Select(e => e.Value))"
        ),
        Value::str("Pen,Ink & more")
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XElement>(preserveContent: true).Elements(\"item\").Where(e => (int)e.Element(\"qty\") > 3).Select(e => e.Attribute(\"sku\").Value).FirstOrDefault()"
        ),
        Value::str("b2")
    );
    // Namespaced element: by local name, or by `{uri}local`.
    assert_eq!(
        r("context.Request.Body.As<XElement>(preserveContent: true).Element(\"note\").Value"),
        Value::str("hello")
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XElement>(preserveContent: true).Element(\"{urn:x}note\").Name.NamespaceName"
        ),
        Value::str("urn:x")
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XElement>(preserveContent: true).Element(\"{urn:other}note\") == null"
        ),
        Value::Bool(true)
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XElement>(preserveContent: true).Element(\"note\").Name.ToString()"
        ),
        Value::str("{urn:x}note")
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XElement>(preserveContent: true).Element(\"missing\")?.Value ?? \"none\""
        ),
        Value::str("none")
    );
    assert_eq!(
        r("context.Request.Body.As<XElement>(preserveContent: true).Attribute(\"nope\")?.Value"),
        Value::Null
    );
    assert_eq!(
        r("context.Request.Body.As<XElement>(preserveContent: true).HasElements"),
        Value::Bool(true)
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XElement>(preserveContent: true).Element(\"empty\").HasElements"
        ),
        Value::Bool(false)
    );
    assert_eq!(
        r(
            "context.Request.Body.As<XDocument>(preserveContent: true).Descendants(\"item\").First().Element(\"name\").Value"
        ),
        Value::str("Pen")
    );
    assert_eq!(
        r("context.Request.Body.As<XDocument>().Element(\"order\").Elements().Count()"),
        Value::Int(4)
    );
    // Parse, ToString, Name comparison, casts.
    assert_eq!(
        s(r#"XElement.Parse("<a k=\"v\"><b>1</b><c/></a>").ToString()"#),
        "<a k=\"v\">\n  <b>1</b>\n  <c />\n</a>"
    );
    assert_eq!(
        s(r#"XElement.Parse("<p>x <i>y</i> &lt;z</p>").ToString()"#),
        "<p>x <i>y</i> &lt;z</p>"
    );
    assert_eq!(
        s(r#"XDocument.Parse("<r xmlns=\"urn:d\"><v>1</v></r>").Root.ToString()"#),
        "<r xmlns=\"urn:d\">\n  <v>1</v>\n</r>"
    );
    assert_eq!(
        run(r#"XElement.Parse("<a><b/></a>").Element("b").Name == "b""#),
        Value::Bool(true)
    );
    assert_eq!(
        run(r#"(int)XElement.Parse("<n> 42 </n>") + 1"#),
        Value::Int(43)
    );
    assert_eq!(
        run(r#"(string)XElement.Parse("<n a=\"x\"/>").Attribute("a")"#),
        Value::str("x")
    );
    assert_eq!(
        s(r#"XElement.Parse("<n a=\"x\"/>").Attribute("a").ToString()"#),
        "a=\"x\""
    );
    assert_eq!(
        run(r#"XElement.Parse("<a/>") is XElement"#),
        Value::Bool(true)
    );
    // Extension methods on sequences of elements.
    assert_eq!(
        s(
            r#"string.Join(",", XElement.Parse("<r><g><i>1</i><i>2</i></g><g><i>3</i></g></r>").Elements("g").Elements("i").Select(i => i.Value))"#
        ),
        "1,2,3"
    );
    assert_eq!(
        run(
            r#"XDocument.Parse("<r><g a='1'/><g a='2' b='3'/></r>").Root.Elements().Attributes().Count()"#
        ),
        Value::Int(3)
    );
    assert_eq!(
        run(
            r#"XElement.Parse("<r><g><i/></g><g><i/><i/></g></r>").Elements("g").Descendants("i").Count()"#
        ),
        Value::Int(3)
    );
    assert!(err(r#"XElement.Parse("<a>")"#).contains("a"));
    // Hostile nesting fails cleanly.
    let deep = format!("{}{}", "<a>".repeat(5000), "</a>".repeat(5000));
    let p = parse(
        "XElement.Parse((string)context.Variables[\"x\"])",
        ExprKind::Single,
    )
    .expect("parses");
    let mut c2 = ctx();
    c2.variable("x", deep.as_str());
    let e = eval(&p, &mut c2).expect_err("too deep");
    assert_eq!(e.kind, "XmlException");
}

#[test]
fn array_copy_and_html_encode() {
    assert_eq!(
        run(
            "{ var d = new byte[4]; Array.Copy(new byte[] {1, 2, 3}, 1, d, 2, 2); return BitConverter.ToString(d); }"
        ),
        Value::str("00-00-02-03")
    );
    assert_eq!(
        run(
            "{ var d = new string[2]; System.Array.Copy(new[] {\"a\", \"b\"}, d, 2); return string.Join(\"|\", d); }"
        ),
        Value::str("a|b")
    );
    let p = parse(
        "var d = new byte[1]; Array.Copy(new byte[] {1, 2}, 0, d, 0, 9223372036854775807); return d;",
        ExprKind::Block,
    )
    .expect("parses");
    assert_eq!(
        eval(&p, &mut ctx()).expect_err("too long").kind,
        "ArgumentException"
    );
    assert_eq!(
        s("System.Net.WebUtility.HtmlEncode(\"<a href='x'>&\\\"</a>\")"),
        "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
    );
    // The correlation-id block of the corpus ("Add correlation id to inbound request").
    let v = s(r#"{
        var guidBinary = new byte[16];
        Array.Copy(Guid.NewGuid().ToByteArray(), 0, guidBinary, 0, 10);
        long time = DateTime.Now.Ticks;
        byte[] bytes = new byte[6];
        unchecked
        {
            bytes[5] = (byte)(time >> 40);
            bytes[4] = (byte)(time >> 32);
            bytes[3] = (byte)(time >> 24);
            bytes[2] = (byte)(time >> 16);
            bytes[1] = (byte)(time >> 8);
            bytes[0] = (byte)(time);
        }
        Array.Copy(bytes, 0, guidBinary, 10, 6);
        return new Guid(guidBinary).ToString();
    }"#);
    assert_eq!(v.len(), 36);
    // The low six bytes of the fixed clock's ticks end the GUID, lowest byte first.
    let ticks = DateTime::from_parts(2024, 1, 2, 3, 4, 5, 0)
        .expect("valid")
        .0;
    let tail: String = (0..6)
        .map(|i| format!("{:02x}", (ticks >> (8 * i)) as u8))
        .collect();
    assert!(v.ends_with(&tail), "{v} should end with {tail}");
}

fn unsupported(src: &str, kind: ExprKind) -> Vec<String> {
    parse(src, kind)
        .unwrap_or_else(|e| panic!("parse {src:?}: {e:?}"))
        .unsupported_members()
        .into_iter()
        .map(|e| e.unsupported.unwrap_or_default())
        .collect()
}

#[test]
fn static_scan_for_unsupported_members() {
    let single = |s: &str| unsupported(s, ExprKind::Single);
    assert_eq!(single("context.Foo"), ["the member 'context.Foo'"]);
    assert_eq!(
        single("context.Request.Headers.Bar(1)"),
        ["the method 'context.Request.Headers.Bar'"]
    );
    assert_eq!(
        single("context.Request.Nope.Length"),
        ["the member 'context.Request.Nope'"]
    );
    // char.IsDigit and Math.Cbrt are implemented now; these two are not.
    assert_eq!(
        single("char.IsAsciiHexDigit('1')"),
        ["the method 'char.IsAsciiHexDigit'"]
    );
    assert_eq!(single("Math.ScaleB(8, 1)"), ["the method 'Math.ScaleB'"]);
    assert!(single("char.IsDigit('1') && Math.Cbrt(8) > 1").is_empty());
    assert_eq!(single("DateTime.Foo"), ["the member 'DateTime.Foo'"]);
    // IPAddress is implemented now (crates/expr/src/library/net); Dns is not.
    assert!(single("System.Net.IPAddress.Parse(\"1.2.3.4\")").is_empty());
    assert_eq!(
        single("System.Net.Dns.GetHostName()"),
        ["the type 'System.Net.Dns'"]
    );
    assert_eq!(
        single("\"s\".UnknownMethod()"),
        ["the string method 'UnknownMethod'"]
    );
    assert_eq!(single("$\"{1}\".Foo"), ["the string member 'Foo'"]);
    // Nested inside lambdas, blocks, switch arms, interpolation holes.
    assert_eq!(
        unsupported(
            "var xs = new[] {1}; return xs.Select(x => Math.ScaleB(x, 1)).First() switch { _ => $\"{context.Nope}\" };",
            ExprKind::Block
        ),
        ["the method 'Math.ScaleB'", "the member 'context.Nope'"]
    );
    // Nothing the interpreter runs is reported.
    for ok in [
        "context.Request.Headers.GetValueOrDefault(\"a\", \"\").Split(',').Select(x => x.Trim()).ToArray()",
        "context.Request.Body.As<JObject>(preserveContent: true)[\"a\"]",
        "context.Response?.StatusCode",
        "context.Variables.ContainsKey(\"x\") && context.Variables.Count > 0",
        "context.Request.Url.ToString() + context.Request.Url.Query.GetValueOrDefault(\"q\", \"\")",
        "context.Deployment.Region.ToUpper() + context.Api.ServiceUrl.Host",
        "System.Text.Encoding.UTF8.GetBytes(\"x\").Length",
        "Newtonsoft.Json.JsonConvert.SerializeObject(new { a = 1 }, Newtonsoft.Json.Formatting.None)",
        "DateTime.UtcNow.AddDays(1).ToString(\"o\") + TimeSpan.FromMinutes(1)",
        "Regex.IsMatch(\"a\", \"a\", RegexOptions.IgnoreCase) ? Math.Max(1, 2) : int.MaxValue",
        "\"abc\".Where(c => c != 'b').Count() + \"x\".Length",
        "XElement.Parse(\"<a/>\").Name.LocalName",
        "System.Convert.ToBase64String(new byte[] {1})",
        // A local named like a type is a value, not the type.
        "new[] {\"a\"}.Select(Convert => Convert.Foo()).Count()",
    ] {
        assert_eq!(single(ok), Vec::<String>::new(), "{ok}");
    }
    assert_eq!(
        unsupported(
            "int.TryParse(\"1\", out var n); Array.Copy(new byte[1], new byte[1], 1); var Regex = \"x\"; return Regex.Length + n;",
            ExprKind::Block
        ),
        Vec::<String>::new()
    );
}

/// The new syntax (local functions, out arguments, switch statements and expressions, XML)
/// never panics: on every prefix of a program using it, and on hostile repetitions.
#[test]
fn new_syntax_never_panics() {
    let real = r#"int F(int a) => a switch { 1 or 2 => 10, > 5 and < 9 => 20, int n when n < 0 => -n, _ => 0 };
        static string G(string s) { switch (s) { case "a": case "b": return "ab"; default: break; } return s; }
        if (int.TryParse("7", out var n) && long.TryParse("8", out long m)) { return F(n) + G("a") + m; }
        var x = XElement.Parse("<a><b k='v'>t</b></a>").Element("b")?.Attribute("k")?.Value;
        return Math.Cbrt(context.Foo) + x;"#;
    for i in 0..real.len() {
        if real.is_char_boundary(i) {
            for kind in [ExprKind::Block, ExprKind::Single] {
                if let Ok(p) = parse(&real[..i], kind) {
                    let _ = p.unsupported_members();
                    let _ = eval(&p, &mut ctx());
                }
            }
        }
    }
    let hostile = [
        format!("1 switch {{ {} _ => 0 }}", "1 or ".repeat(20_000)),
        format!("1 switch {{ {}1 => 0 }}", "not ".repeat(20_000)),
        format!(
            "1 switch {{ {}1{} => 0 }}",
            "(".repeat(20_000),
            ")".repeat(20_000)
        ),
        format!("1{}", " switch { _ => 1 }".repeat(20_000)),
        format!("{{ {} }}", "int F() { ".repeat(20_000)),
        format!("switch (1) {{ {} }}", "case 1: ".repeat(20_000)),
        "int.TryParse(out out)".to_string(),
        "F(out var)".to_string(),
        "x switch".to_string(),
        "x switch {".to_string(),
        "x switch { =>".to_string(),
        "switch (x) { case }".to_string(),
        "switch (x) { foo: }".to_string(),
        "int F(out int x) => 1;".to_string(),
    ];
    for h in &hostile {
        for kind in [ExprKind::Block, ExprKind::Single] {
            if let Ok(p) = parse(h, kind) {
                let _ = p.unsupported_members();
                let _ = eval(&p, &mut ctx());
            }
        }
    }
    // `switch` with 20 000 stacked labels is flat: it parses and runs.
    let p = parse(
        &format!(
            "switch (2) {{ {} return 1; }} return 0;",
            "case 1: case 2: ".repeat(10_000)
        ),
        ExprKind::Block,
    )
    .expect("parses");
    assert_eq!(eval(&p, &mut ctx()).expect("runs"), Value::Int(1));
}

/// For each nesting shape, the deepest program the parser accepts also runs (and is scanned)
/// within a test thread's 2 MiB stack, in unoptimised builds too.
#[test]
fn deepest_accepted_nesting_runs_within_the_stack() {
    let deepest = |pre: &str, open: &str, mid: &str, close: &str, post: &str| {
        let mut last = None;
        for n in 1..200 {
            let src = format!("{pre}{}{mid}{}{post}", open.repeat(n), close.repeat(n));
            match parse(&src, ExprKind::Block) {
                Ok(p) => last = Some(p),
                Err(_) => break,
            }
        }
        let p = last.unwrap_or_else(|| panic!("{open:?} never parses"));
        let _ = eval(&p, &mut ctx());
        let _ = p.unsupported_members();
    };
    deepest("", "{ ", "return 1;", "} ", "");
    deepest("", "int F() { ", "return 1;", "} return F(); ", "");
    deepest("", "if (true) { ", "return 1;", "} ", "");
    deepest("", "foreach (var x in new[] {1}) { ", "return x;", "} ", "");
    deepest("", "switch (1) { case 1: ", "return 1;", "} ", "");
    deepest(
        "",
        "return new[] {1}.Select(x => { ",
        "return x;",
        "}).First(); ",
        "",
    );
    deepest("return ", "(", "1", ")", ";");
    deepest("return ", "1 switch { _ => ", "1", " }", ";");
    deepest("return ", "new[] {1}.Select(x => ", "x", ").First()", ";");
    deepest("int F(int x) => x; return ", "F(1 + F(", "1", "))", ";");
    deepest("return ", "$\"{", "1", "}\"", ";");
    deepest(
        "return ",
        "int.TryParse(\"1\", out var n) ? n + ",
        "1",
        " : 0",
        ";",
    );
}

/// The block of the corpus file "Extracting multiple values from xml documents", run against a
/// send-request response held in a variable, then the `choose` condition that reads its result.
#[test]
fn xml_extraction_corpus_expression() {
    use gatehouse_expr::Object;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    let mut c = ctx();
    let mut response = BTreeMap::new();
    response.insert(
        "Body".to_string(),
        Value::Object(Object::Body(Arc::from(
            "<message1>\n  <conditionValue>true</conditionValue>\n  <value1>MESSAGE1_TEST1</value1>\n  <value2>MESSAGE1_TEST2</value2>\n  <value3>MESSAGE1_TEST3</value3>\n</message1>",
        ))),
    );
    c.variable(
        "sendRequestResponse",
        Value::Object(Object::Record(Arc::new(response))),
    );
    let obj = run_in(
        r#"{
            var doc = XDocument.Parse(((IResponse)context.Variables["sendRequestResponse"]).Body.As<string>());
            var obj = new JObject();
            obj["conditionValue"] = doc.Descendants().Where(r=>r.Name.LocalName == "conditionValue").First().Value;
            obj["value1"] = doc.Descendants().Where(r=>r.Name.LocalName == "value1").First().Value;
            obj["value3"] = doc.Descendants().Where(r=>r.Name.LocalName == "value3").First().Value;
            return obj;
        }"#,
        &mut c,
    );
    assert_eq!(
        obj,
        Value::json(&serde_json::json!({
            "conditionValue": "true",
            "value1": "MESSAGE1_TEST1",
            "value3": "MESSAGE1_TEST3"
        }))
    );
    c.variable("jsonResponse", obj);
    assert_eq!(
        run_in(
            r#"(bool)((JObject)context.Variables["jsonResponse"])["conditionValue"]"#,
            &mut c
        ),
        Value::Bool(true)
    );
}

/// Random token soup over the C# subset's vocabulary (deterministic): parsing, scanning and
/// running never panic, whatever comes out.
#[test]
fn token_soup_never_panics() {
    const VOCAB: &[&str] = &[
        "int",
        "var",
        "string",
        "x",
        "n",
        "F",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        ";",
        ",",
        ":",
        "=>",
        "=",
        "==",
        "+",
        "-",
        "<<",
        ">",
        "<",
        "?",
        "??",
        "?.",
        ".",
        "!",
        "1",
        "0",
        "\"a\"",
        "'c'",
        "out",
        "switch",
        "case",
        "default",
        "break",
        "return",
        "when",
        "and",
        "or",
        "not",
        "_",
        "is",
        "as",
        "new",
        "null",
        "true",
        "if",
        "else",
        "foreach",
        "in",
        "for",
        "while",
        "static",
        "void",
        "TryParse",
        "TryGetValue",
        "XElement",
        "Parse",
        "Element",
        "Value",
        "context",
        "Variables",
        "Array",
        "Copy",
        "$\"{x}\"",
        "short",
        "byte",
        "Math",
        "Cbrt",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..4000 {
        let len = (next() % 24) as usize + 1;
        let src: Vec<&str> = (0..len)
            .map(|_| VOCAB[(next() % VOCAB.len() as u64) as usize])
            .collect();
        let src = src.join(" ");
        for kind in [ExprKind::Block, ExprKind::Single] {
            if let Ok(p) = parse(&src, kind) {
                let _ = p.unsupported_members();
                let _ = eval(&p, &mut ctx());
            }
        }
    }
}
