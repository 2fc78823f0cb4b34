//! `AWS::CloudFront::KeyGroup`: the public keys a distribution trusts.
//! moto 5.2.5 has CreateKeyGroup but not DeleteKeyGroup (it raises
//! NotImplementedError): a deleted group stays in moto's memory until moto
//! stops, where CloudFormation deletes it after the distribution. Every
//! change is a replacement locally.

use serde_json::{json, Value};

use super::{found, missing, strings, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::CloudFront::KeyGroup",
    create: |clients, _stack, resource, properties| Box::pin(create(clients, resource, properties)),
    update: None,
    // moto cannot delete a key group (above): nothing to ask it.
    delete: |_clients, _id| Box::pin(async { Ok(()) }),
    read: |clients, id| Box::pin(read(clients, id)),
};

async fn create(clients: &Clients, resource: &Resource, properties: &Value) -> Result<Made, Error> {
    use aws_sdk_cloudfront::types::KeyGroupConfig;
    let config = properties
        .get("KeyGroupConfig")
        .cloned()
        .unwrap_or_default();
    let built = KeyGroupConfig::builder()
        .name(text(&config, "/Name").ok_or_else(|| missing(resource, "Name"))?)
        .set_items(Some(strings(config.get("Items"))))
        .set_comment(text(&config, "/Comment").map(str::to_owned))
        .build()
        .map_err(|e| crate::Error::Aws(format!("KeyGroupConfig: {e}")))?;
    let out = clients
        .cloudfront
        .create_key_group()
        .key_group_config(built)
        .send()
        .await
        .map_err(|e| sdk_error("CreateKeyGroup", e))?;
    let id = out
        .key_group()
        .map(|k| k.id().to_owned())
        .unwrap_or_default();
    Ok(Made {
        physical_id: id.clone(),
        attributes: [("Id".to_owned(), json!(id))].into(),
    })
}

async fn read(clients: &Clients, id: &str) -> Result<Option<Value>, Error> {
    let out = found(
        clients
            .cloudfront
            .get_key_group()
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetKeyGroup", e)),
    )?;
    let config = out
        .as_ref()
        .and_then(|o| o.key_group())
        .and_then(|k| k.key_group_config());
    Ok(config.map(|c| {
        json!({
            "Name": c.name(),
            "Items": c.items(),
            "Comment": c.comment(),
        })
    }))
}
