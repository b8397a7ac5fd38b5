//! docs/portal.md's YAML examples are whole configs that validate.

#[test]
fn the_portal_docs_examples_validate() {
    let doc = include_str!("../../../docs/portal.md");
    let blocks: Vec<&str> = doc
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 3, "the examples of docs/portal.md");
    for (i, yaml) in blocks.iter().enumerate() {
        let config = gatehouse_model::from_str(
            yaml,
            gatehouse_model::Format::Yaml,
            std::path::Path::new("portal.md"),
        )
        .unwrap_or_else(|e| panic!("example {i}: {e}\n{yaml}"));
        if let Err(issues) = gatehouse_model::validate(config) {
            panic!("example {i} does not validate: {issues:?}\n{yaml}");
        }
    }
}
