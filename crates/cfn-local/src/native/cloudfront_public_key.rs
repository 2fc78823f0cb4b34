//! `AWS::CloudFront::PublicKey`: a key CloudFront checks signed URLs with.
//! moto does not check a public key's EncodedKey (AWS refuses one that is
//! not a PEM RSA key). Every change is a replacement locally.

use serde_json::{json, Value};

use super::{found, missing, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::CloudFront::PublicKey",
    create: |clients, _stack, resource, properties| Box::pin(create(clients, resource, properties)),
    update: None,
    delete: |clients, id| Box::pin(delete(clients, id)),
    read: |clients, id| Box::pin(read(clients, id)),
};

async fn create(clients: &Clients, resource: &Resource, properties: &Value) -> Result<Made, Error> {
    use aws_sdk_cloudfront::types::PublicKeyConfig;
    let config = properties
        .get("PublicKeyConfig")
        .cloned()
        .unwrap_or_default();
    let built = PublicKeyConfig::builder()
        .name(text(&config, "/Name").ok_or_else(|| missing(resource, "Name"))?)
        .caller_reference(
            text(&config, "/CallerReference")
                .ok_or_else(|| missing(resource, "CallerReference"))?,
        )
        .encoded_key(text(&config, "/EncodedKey").ok_or_else(|| missing(resource, "EncodedKey"))?)
        .set_comment(text(&config, "/Comment").map(str::to_owned))
        .build()
        .map_err(|e| crate::Error::Aws(format!("PublicKeyConfig: {e}")))?;
    let out = clients
        .cloudfront
        .create_public_key()
        .public_key_config(built)
        .send()
        .await
        .map_err(|e| sdk_error("CreatePublicKey", e))?;
    let id = out
        .public_key()
        .map(|k| k.id().to_owned())
        .unwrap_or_default();
    Ok(Made {
        physical_id: id.clone(),
        attributes: [("Id".to_owned(), json!(id))].into(),
    })
}

async fn delete(clients: &Clients, id: &str) -> Result<(), Error> {
    clients
        .cloudfront
        .delete_public_key()
        .id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeletePublicKey", e))
}

async fn read(clients: &Clients, id: &str) -> Result<Option<Value>, Error> {
    // moto answers GetPublicKey of a missing id with a 500 (a KeyError),
    // where AWS says NoSuchPublicKey: the list (one page; a local stack
    // holds a few keys) says whether it exists.
    let listed = clients
        .cloudfront
        .list_public_keys()
        .send()
        .await
        .map_err(|e| sdk_error("ListPublicKeys", e))?;
    let exists = listed
        .public_key_list()
        .map(|list| list.items())
        .unwrap_or_default()
        .iter()
        .any(|key| key.id() == id);
    if !exists {
        return Ok(None);
    }
    let out = found(
        clients
            .cloudfront
            .get_public_key()
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetPublicKey", e)),
    )?;
    let config = out
        .as_ref()
        .and_then(|o| o.public_key())
        .and_then(|k| k.public_key_config());
    Ok(config.map(|c| {
        json!({
            "Name": c.name(),
            "CallerReference": c.caller_reference(),
            "Comment": c.comment(),
            "EncodedKey": c.encoded_key(),
        })
    }))
}
