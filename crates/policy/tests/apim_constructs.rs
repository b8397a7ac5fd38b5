//! The constructs real APIM policies use that gatehouse once stopped on at `policy check`
//! (issue 16): try/catch, `Array.Exists`, `XmlReader`, `XNode`, RSA signing with
//! `HashAlgorithmName`/`RSASignaturePadding`, `AsFormUrlEncodedContent()`, a no-break space
//! between tokens, and `validate-azure-ad-token`. Each one passes `policy check` and, where it
//! is an expression, runs in a pipeline with the result asserted.

use gatehouse_policy::document::{check_source, compose, parse_policies};
use gatehouse_policy::expr::Value;
use gatehouse_policy::pipeline::{Message, Outcome, Pipeline, Section, TestExchange};

/// An inbound section around `inner`, with an on-error that reports LastError.
fn document(inner: &str) -> String {
    format!(
        r#"<policies><inbound><base />{inner}</inbound><backend><base /></backend><outbound><base /></outbound><on-error>
        <set-header name="x-error" exists-action="override"><value>@(context.LastError.Message)</value></set-header>
        </on-error></policies>"#
    )
}

fn checked(inner: &str) -> Pipeline {
    let xml = document(inner);
    let report = check_source(std::path::Path::new("t.xml"), &xml);
    assert!(report.ok, "policy check: {:?}", report.errors);
    let doc = parse_policies("t.xml", &xml, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let c = compose(Some(&doc), None, None, None).unwrap_or_else(|e| panic!("{e:#?}"));
    Pipeline::compile(&c).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the inbound section and returns the request header `x-out`.
fn out(p: &Pipeline, ex: &mut TestExchange) -> String {
    let outcome = futures_util::FutureExt::now_or_never(p.run(Section::Inbound, ex))
        .unwrap_or_else(|| panic!("the inbound section waited"));
    if let Outcome::Error(e) = &outcome {
        panic!("on-error: {} {}", e.reason, e.message);
    }
    ex.header_joined(Message::Request, "x-out")
        .unwrap_or_else(|| panic!("x-out not set: {outcome:?}"))
}

fn set_out(expr: &str) -> String {
    format!(
        r#"<set-header name="x-out" exists-action="override"><value>{expr}</value></set-header>"#
    )
}

#[test]
fn try_catch_around_a_body_that_is_not_json() {
    let p = checked(&set_out(
        "@{ try { return (string)context.Request.Body.As&lt;JObject&gt;(preserveContent: true)[&quot;id&quot;]; } \
         catch (JsonReaderException) { return &quot;not json&quot;; } \
         catch (Exception e) { return e.GetType().Name; } }",
    ));
    let mut ex = TestExchange::new();
    ex.effects.request_body = Some(r#"{"id":"a-1"}"#.into());
    assert_eq!(out(&p, &mut ex), "a-1");
    let mut ex = TestExchange::new();
    ex.effects.request_body = Some("<id>a-1</id>".into());
    assert_eq!(out(&p, &mut ex), "not json");
}

#[test]
fn array_exists_over_a_header_list() {
    let p = checked(&set_out(
        "@(Array.Exists(context.Request.Headers.GetValueOrDefault(&quot;X-Roles&quot;, &quot;&quot;).Split(','), r =&gt; r.Trim() == &quot;admin&quot;) ? &quot;yes&quot; : &quot;no&quot;)",
    ));
    let mut ex = TestExchange::new();
    ex.request_headers
        .insert("x-roles".into(), vec!["reader, admin".into()]);
    assert_eq!(out(&p, &mut ex), "yes");
    let mut ex = TestExchange::new();
    ex.request_headers
        .insert("x-roles".into(), vec!["reader".into()]);
    assert_eq!(out(&p, &mut ex), "no");
}

#[test]
fn xml_reader_and_xnode_read_a_body() {
    let p = checked(&set_out(
        "@{ var body = context.Request.Body.As&lt;string&gt;(preserveContent: true); \
         using (var reader = XmlReader.Create(new StringReader(body))) { \
           while (reader.Read()) { \
             if (reader.NodeType == XmlNodeType.Element &amp;&amp; reader.Name == &quot;id&quot;) { return reader.ReadElementContentAsString(); } \
           } } \
         return &quot;none&quot;; }",
    ));
    let mut ex = TestExchange::new();
    ex.effects.request_body = Some("<order><id>42</id><qty>1</qty></order>".into());
    assert_eq!(out(&p, &mut ex), "42");

    let p = checked(&set_out(
        "@{ XNode node = context.Request.Body.As&lt;XNode&gt;(preserveContent: true); \
         var order = (XElement)node; return order.Element(&quot;qty&quot;).Value + &quot;/&quot; + node.NodeType; }",
    ));
    let mut ex = TestExchange::new();
    ex.effects.request_body = Some("<order><id>42</id><qty>3</qty></order>".into());
    assert_eq!(out(&p, &mut ex), "3/Element");
}

#[test]
fn rsa_signature_with_hash_algorithm_name_and_padding_verifies() {
    // The key is a variable (as a named value would hold it), in .NET's XML key format.
    let key = include_str!("../../expr/tests/crypto/rsa1024.xml");
    let p = checked(&set_out(
        "@{ var data = Encoding.UTF8.GetBytes(context.Request.Method + &quot; &quot; + context.Request.Url.Path); \
         using (RSA rsa = RSA.Create()) { \
           rsa.FromXmlString((string)context.Variables[&quot;key&quot;]); \
           var sig = rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); \
           var ok = rsa.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); \
           data[0] ^= 1; \
           var tampered = rsa.VerifyData(data, sig, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1); \
           return $&quot;{sig.Length}:{ok}:{tampered}&quot;; } }",
    ));
    let mut ex = TestExchange::new();
    ex.context.variable("key", Value::str(key.trim()));
    assert_eq!(out(&p, &mut ex), "128:True:False");
}

#[test]
fn a_form_body_read_as_url_encoded_content() {
    let p = checked(&set_out(
        "@{ var form = context.Request.Body.AsFormUrlEncodedContent(preserveContent: true); \
         return form[&quot;name&quot;][0] + &quot;|&quot; + form[&quot;tag&quot;].Count; }",
    ));
    let mut ex = TestExchange::new();
    ex.effects.request_body = Some("name=Ada+Lovelace&tag=a&tag=b%26c".into());
    assert_eq!(out(&p, &mut ex), "Ada Lovelace|2");
}

#[test]
fn a_no_break_space_between_tokens_is_whitespace() {
    let p = checked(&set_out(
        "@{\u{a0}var\u{a0}n\u{a0}=\u{2003}40\u{202f}+\u{3000}2;\u{a0}return\u{a0}n.ToString();\u{a0}}",
    ));
    let mut ex = TestExchange::new();
    assert_eq!(out(&p, &mut ex), "42");
}

#[test]
fn validate_azure_ad_token_passes_policy_check() {
    let xml = document(
        r#"<validate-azure-ad-token tenant-id="contoso.onmicrosoft.com" failed-validation-httpcode="401">
            <client-application-ids><application-id>00000000-0000-0000-0000-000000000001</application-id></client-application-ids>
            <audiences><audience>api://orders</audience></audiences>
            <required-claims><claim name="roles" match="any"><value>Orders.Read</value></claim></required-claims>
        </validate-azure-ad-token>"#,
    );
    let report = check_source(std::path::Path::new("t.xml"), &xml);
    assert!(report.ok, "{:?}", report.errors);
}

#[test]
fn a_cached_string_builder_is_not_shared_between_requests() {
    // cache-store-value keeps a copy; each lookup gets its own, so one request appending to
    // what it read cannot change what the next one reads.
    let store = checked(
        r#"<set-variable name="sb" value="@(new StringBuilder(&quot;a&quot;))" />
        <cache-store-value key="k" value="@(context.Variables[&quot;sb&quot;])" duration="60" />
        <set-variable name="x" value="@(((StringBuilder)context.Variables[&quot;sb&quot;]).Append(&quot;-after-store&quot;).ToString())" />
        <set-header name="x-out" exists-action="override"><value>stored</value></set-header>"#,
    );
    let read = checked(
        r#"<cache-lookup-value key="k" variable-name="got" />
        <set-header name="x-out" exists-action="override"><value>@{ var sb = (StringBuilder)context.Variables[&quot;got&quot;]; var before = sb.ToString(); sb.Append(&quot;!&quot;); return before; }</value></set-header>"#,
    );
    let mut first = TestExchange::new();
    assert_eq!(out(&store, &mut first), "stored");
    let mut a = TestExchange::new();
    a.cache = first.cache.clone();
    assert_eq!(out(&read, &mut a), "a");
    let mut b = TestExchange::new();
    b.cache = first.cache.clone();
    assert_eq!(out(&read, &mut b), "a");
}
