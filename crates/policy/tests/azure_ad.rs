//! validate-azure-ad-token through the crate's public API: `policy check` accepts APIM's
//! documented form, and compiling a pipeline enforces what the policy requires.

use std::path::Path;

use gatehouse_policy::document::{check_source, compose, parse_policies};
use gatehouse_policy::pipeline::Pipeline;

fn document(inner: &str) -> String {
    format!(
        r#"<policies>
  <inbound>
    <validate-azure-ad-token tenant-id="contoso.onmicrosoft.com" header-name="Authorization"
        failed-validation-httpcode="401" failed-validation-error-message="Unauthorized"
        output-token-variable-name="jwt">{inner}</validate-azure-ad-token>
  </inbound>
  <backend><forward-request /></backend>
  <outbound />
  <on-error />
</policies>"#
    )
}

const FULL: &str = r#"
      <client-application-ids><application-id>@((string)context.Variables["client"])</application-id></client-application-ids>
      <backend-application-ids><application-id>api://orders</application-id></backend-application-ids>
      <audiences><audience>api://orders-v2</audience></audiences>
      <required-claims><claim name="roles" match="any" separator=","><value>admin</value></claim></required-claims>"#;

fn compile(xml: &str) -> Result<Pipeline, String> {
    let doc = parse_policies("t.xml", xml, None).map_err(|e| format!("{e:?}"))?;
    let composed = compose(Some(&doc), None, None, None).map_err(|e| format!("{e:?}"))?;
    Pipeline::compile(&composed).map_err(|e| e.to_string())
}

#[test]
fn policy_check_accepts_the_documented_form() {
    let report = check_source(Path::new("aad.xml"), &document(FULL));
    assert!(report.ok, "{:#?}", report.errors);
    assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
    assert!(report.policies_used.contains("validate-azure-ad-token"));
}

#[test]
fn the_pipeline_compiles_and_requires_client_application_ids() {
    let p = compile(&document(FULL)).expect("compiles");
    assert!(!p.is_empty(gatehouse_policy::pipeline::Section::Inbound));
    let e = match compile(&document("<audiences><audience>a</audience></audiences>")) {
        Ok(_) => panic!("compiled without client-application-ids"),
        Err(e) => e,
    };
    assert!(e.contains("client-application-ids"), "{e}");
}

#[test]
fn unknown_children_and_a_missing_tenant_are_load_errors() {
    let report = check_source(Path::new("aad.xml"), &document("<issuers />"));
    assert!(!report.ok);
    let no_tenant = document(FULL).replace(r#"tenant-id="contoso.onmicrosoft.com""#, "");
    let report = check_source(Path::new("aad.xml"), &no_tenant);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.message.contains("tenant-id")),
        "{:#?}",
        report.errors
    );
}
