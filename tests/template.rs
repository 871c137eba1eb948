//! `template.yaml` and the code agree on every table: key schema, attribute
//! types, indexes and TTL come from `app_upgrade::store::tables`.

use app_upgrade::store::tables::{self, TableDef};
use serde_norway::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

fn key_schema(value: &Value) -> Vec<(String, String)> {
    value
        .as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().expect("name").to_owned(),
                k["KeyType"].as_str().expect("type").to_owned(),
            )
        })
        .collect()
}

fn expected_schema(hash: &str, range: Option<&str>) -> Vec<(String, String)> {
    let mut v = vec![(hash.to_owned(), "HASH".to_owned())];
    v.extend(range.map(|r| (r.to_owned(), "RANGE".to_owned())));
    v
}

fn check_table(resources: &Value, def: &TableDef) {
    let table = &resources[def.logical_id];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table", "{}", def.logical_id);
    let props = &table["Properties"];
    assert_eq!(
        key_schema(&props["KeySchema"]),
        expected_schema(def.hash_key, Some(def.range_key)),
        "{} key schema",
        def.logical_id
    );

    let mut want_attrs: Vec<&str> = vec![def.hash_key, def.range_key];
    for index in def.indexes {
        want_attrs.push(index.hash_key);
        want_attrs.extend(index.range_key);
    }
    want_attrs.sort_unstable();
    want_attrs.dedup();
    let mut got_attrs: Vec<&str> = props["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            assert_eq!(a["AttributeType"], "S", "every key attribute is a string");
            a["AttributeName"].as_str().expect("name")
        })
        .collect();
    got_attrs.sort_unstable();
    assert_eq!(got_attrs, want_attrs, "{} attributes", def.logical_id);

    let got_indexes = props["GlobalSecondaryIndexes"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        got_indexes.len(),
        def.indexes.len(),
        "{} GSIs",
        def.logical_id
    );
    for index in def.indexes {
        let got = got_indexes
            .iter()
            .find(|g| g["IndexName"] == index.name)
            .unwrap_or_else(|| panic!("index {} missing from template", index.name));
        assert_eq!(
            key_schema(&got["KeySchema"]),
            expected_schema(index.hash_key, index.range_key)
        );
        assert_eq!(got["Projection"]["ProjectionType"], "ALL");
    }

    match def.ttl_attribute {
        Some(ttl) => {
            assert_eq!(props["TimeToLiveSpecification"]["AttributeName"], ttl);
            assert_eq!(props["TimeToLiveSpecification"]["Enabled"], true);
        }
        None => assert!(props.get("TimeToLiveSpecification").is_none()),
    }
    assert_eq!(props["BillingMode"], "PAY_PER_REQUEST");
}

#[test]
fn template_tables_match_the_code() {
    let t = template();
    let resources = &t["Resources"];
    for def in tables::ALL {
        check_table(resources, &def);
    }
}
