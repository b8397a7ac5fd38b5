//! Tests of the C# expression subset: literals, precedence, the library, `context`, run-time
//! errors, and every expression found in the APIM policy corpus.

use gatehouse_policy::expr::{DateTime, ExprKind, MapContext, Value, eval, parse};

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
        Value::Int(9_000_000_000)
    );
    assert_eq!(s("Convert.ToString(5)"), "5");
    assert_eq!(run("int.Parse(\"-7\")"), Value::Int(-7));
    assert_eq!(run("long.Parse(\"9000000000\")"), Value::Int(9_000_000_000));
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
    assert_eq!(
        s("DateTime.Parse(\"2024-01-02T05:04:05+02:00\").ToString(\"o\")"),
        "2024-01-02T03:04:05.0000000Z"
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
    assert_eq!(
        run("new[] {1, 2, 3}.FirstOrDefault(x => x > 5)"),
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
        Value::Json(serde_json::json!(2))
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
        r#"{"added":"yes","n":2,"name":"x","nested":{"k":"v","k2":true}}"#
    );
    assert_eq!(
        s("new JObject(new JProperty(\"a\", 1)).ToString()"),
        "{\n  \"a\": 1\n}"
    );
    assert_eq!(
        s("JsonConvert.SerializeObject(new { typ = \"JWT\", alg = \"HS256\" })"),
        r#"{"alg":"HS256","typ":"JWT"}"#
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
    assert_eq!(err("1 / 0"), "Attempted to divide by zero.");
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
    let e = parse("try { return 1; } catch { }", ExprKind::Block).expect_err("unsupported");
    assert_eq!(e.unsupported.as_deref(), Some("try statement"));
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
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus"));
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
