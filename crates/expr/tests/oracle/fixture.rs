//! The gatehouse side of the oracle's fixture: the same request context as the C# one in
//! crates/expr/tests/oracle/context.cs (keep them in step).

use gatehouse_expr::{DateTime, MapContext, TimeSpan, Value};

/// `context.RequestId` of the fixture (`6f9619ff-8b86-d011-b42d-00cf4fc964ff`).
const REQUEST_ID: u128 = 0x6f9619ff_8b86_d011_b42d_00cf4fc964ff;

pub fn context() -> MapContext {
    let mut c = MapContext::new();
    for url in ["Request.Url", "Request.OriginalUrl"] {
        c.set(&format!("{url}.Scheme"), "https")
            .set(&format!("{url}.Host"), "api.example.com")
            .set(&format!("{url}.Port"), 443)
            .set(&format!("{url}.Path"), "/orders/42")
            .set(&format!("{url}.QueryString"), "?a=1&b=two")
            .entry(&format!("{url}.Query"), "a", "1")
            .entry(&format!("{url}.Query"), "b", "two");
    }
    c.set("Request.Method", "POST")
        .set("Request.IpAddress", "10.0.0.7")
        .header("Request", "Authorization", "Bearer abc.def")
        .header("Request", "Accept", "application/json")
        // Two values: APIM's GetValueOrDefault joins them with a comma.
        .header("Request", "X-Multi", "a,b")
        .entry("Request.MatchedParameters", "id", "42")
        .body_text(
            "Request",
            r#"{"name":"x","items":[1,2,3],"nested":{"k":"v"}}"#,
        )
        .set("Subscription.Id", "sub-1")
        .set("Subscription.Key", "key-123")
        .set("Subscription.Name", "Starter")
        .set("Subscription.PrimaryKey", "key-123")
        .set("Subscription.SecondaryKey", "key-456")
        .set("User.Id", "user-1")
        .set("User.Email", "ada@example.com")
        .set("User.FirstName", "Ada")
        .set("User.LastName", "Lovelace")
        .set("Api.Id", "orders-api")
        .set("Api.Name", "orders")
        .set("Api.Path", "/orders")
        .set("Api.ServiceUrl.Scheme", "http")
        .set("Api.ServiceUrl.Host", "backend.internal")
        .set("Api.ServiceUrl.Port", 8080)
        .set("Api.ServiceUrl.Path", "/v1")
        .set("Api.ServiceUrl.QueryString", "")
        .set("Product.Id", "starter")
        .set("Product.Name", "Starter")
        .set("Product.ApprovalRequired", false)
        .set("Product.SubscriptionRequired", true)
        .set("Product.SubscriptionsLimit", 1)
        .set("Operation.Id", "get-order")
        .set("Operation.Method", "GET")
        .set("Operation.Name", "GetOrder")
        .set("Operation.UrlTemplate", "/orders/{id}")
        .set("Deployment.Region", "West Europe")
        .set("Deployment.ServiceName", "gh")
        .set("Deployment.GatewayId", "managed")
        .set("RequestId", Value::Guid(REQUEST_ID))
        .set("Elapsed", Value::TimeSpan(TimeSpan(15_000_000)))
        .set("Tracing", false)
        .variable("status", "403")
        .variable("count", 3)
        .variable("flag", true)
        .variable("name", "gatehouse");
    // APIM's context.Timestamp is a UTC time (the gateway sets it from DateTime::now_utc).
    if let Some(t) = DateTime::from_parts(2024, 1, 2, 3, 4, 5, 0) {
        c.set(
            "Timestamp",
            Value::DateTime(t.with_kind(gatehouse_expr::DateTimeKind::Utc)),
        );
    }
    if let (Some(created), Some(registered)) = (
        DateTime::from_parts(2023, 5, 6, 7, 8, 9, 0),
        DateTime::from_parts(2022, 1, 1, 0, 0, 0, 0),
    ) {
        c.set("Subscription.CreatedDate", Value::DateTime(created))
            .set("User.RegistrationDate", Value::DateTime(registered));
    }
    c
}
