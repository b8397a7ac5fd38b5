//! `policy check` accepts the C# statements and syntax APIM accepts (try/catch/finally, throw,
//! using, foreach over dictionaries, tuples, patterns, interpolation with alignment, Unicode
//! whitespace) and still reports what gatehouse cannot run.

use gatehouse_policy::document::{ErrorKind, check_source};

const POLICY: &str = "<policies>
    <inbound>
        <base />
        <set-variable name=\"id\" value=\"@{
            try {
                var n = int.Parse(context.Request.Headers.GetValueOrDefault(&quot;X-Id&quot;, &quot;x&quot;));
                return n &gt; 0 ? n : throw new ArgumentOutOfRangeException(&quot;X-Id&quot;);
            } catch (FormatException) {
                return -1;
            } catch (Exception ex) when (ex is ArgumentException) {
                return -2;
            } finally {
                context.Trace(&quot;id&quot;, &quot;parsed&quot;);
            }
        }\" />
        <set-variable name=\"h\" value=\"@{
            var\u{a0}sb = new System.Text.StringBuilder();
            foreach (var (k, v) in context.Request.Headers) { sb.Append($&quot;{k,-10}|{v}&quot;); }
            var t = (count: context.Request.Headers.Count, text: sb.ToString());
            var (c, _) = t;
            using (var h = new HMACSHA256(new byte[] { 1 })) { }
            object o = c;
            if (o is int i &amp;&amp; i &gt;= 0) { return $&quot;{t.text}{i,3:D2}{nameof(o)}&quot;; }
            try { throw new InvalidOperationException(&quot;x&quot;); } catch { throw; }
        }\" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>";

#[test]
fn statements_and_syntax_pass_policy_check() {
    let r = check_source(std::path::Path::new("t.xml"), POLICY);
    assert!(r.ok, "{:?}", r.errors);
    // Still reported: an unsupported member inside a catch block.
    let bad = POLICY.replace("return -1;", "return char.IsDigit('1') ? 1 : -1;");
    let r = check_source(std::path::Path::new("t.xml"), &bad);
    assert!(!r.ok);
    assert!(
        r.errors
            .iter()
            .any(|e| e.kind == ErrorKind::Unsupported && e.message.contains("char.IsDigit")),
        "{:?}",
        r.errors
    );
    // And an unsupported statement.
    let bad = POLICY.replace("var (c, _) = t;", "var c = 0; do { c++; } while (c < 2);");
    let r = check_source(std::path::Path::new("t.xml"), &bad);
    assert!(!r.ok);
}
