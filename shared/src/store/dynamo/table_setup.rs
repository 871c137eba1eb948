//! Creating the tables from their definitions in [`crate::store::tables`]
//! (local runs and tests; deployments get them from `template.yaml`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::errors::{classify, internal, is_code};
use super::store::DynamoStore;
use crate::store::StoreError;
use crate::store::tables::{self, TableDef};

impl DynamoStore {
    /// Creates both tables if missing (local runs and tests; deployments get
    /// them from `template.yaml`). Returns the names it created.
    pub async fn create_tables(&self) -> Result<Vec<String>, StoreError> {
        let mut created = Vec::new();
        for (def, name) in [
            (&tables::VERSIONS, &self.versions_table),
            (&tables::TOKENS, &self.tokens_table),
        ] {
            if create_table(&self.client, def, name).await? {
                created.push(name.clone());
            }
        }
        Ok(created)
    }
}

async fn create_table(client: &Client, def: &TableDef, name: &str) -> Result<bool, StoreError> {
    let mut attributes = vec![def.hash_key, def.range_key];
    for index in def.indexes {
        attributes.push(index.hash_key);
        attributes.extend(index.range_key);
    }
    attributes.sort_unstable();
    attributes.dedup();

    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(def.hash_key, KeyType::Hash)?)
        .key_schema(key_element(def.range_key, KeyType::Range)?);
    for attribute in attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)?,
        );
    }
    for index in def.indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .key_schema(key_element(index.hash_key, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if let Some(range) = index.range_key {
            gsi = gsi.key_schema(key_element(range, KeyType::Range)?);
        }
        request = request.global_secondary_indexes(gsi.build().map_err(internal)?);
    }
    match request.send().await {
        Ok(_) => {}
        Err(err) if is_code(&err, "ResourceInUseException") => return Ok(false),
        Err(err) => return Err(classify(err)),
    }
    if let Some(ttl) = def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(true)
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(internal)
}
