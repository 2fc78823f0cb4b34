//! `AWS::CloudFront::OriginAccessControl`: CloudFront's signed access to
//! the S3 origin. Every change is a replacement locally.

use serde_json::{json, Value};

use super::{found, missing, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::CloudFront::OriginAccessControl",
    create: |clients, _stack, resource, properties| Box::pin(create(clients, resource, properties)),
    update: None,
    delete: |clients, id| Box::pin(delete(clients, id)),
    read: |clients, id| Box::pin(read(clients, id)),
};

async fn create(clients: &Clients, resource: &Resource, properties: &Value) -> Result<Made, Error> {
    use aws_sdk_cloudfront::types::{
        OriginAccessControlConfig, OriginAccessControlOriginTypes,
        OriginAccessControlSigningBehaviors, OriginAccessControlSigningProtocols,
    };
    let config = properties
        .get("OriginAccessControlConfig")
        .cloned()
        .unwrap_or_default();
    let name = text(&config, "/Name").ok_or_else(|| missing(resource, "Name"))?;
    let built = OriginAccessControlConfig::builder()
        .name(name)
        .description(text(&config, "/Description").unwrap_or_default())
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::from(
            text(&config, "/OriginAccessControlOriginType").unwrap_or("s3"),
        ))
        .signing_behavior(OriginAccessControlSigningBehaviors::from(
            text(&config, "/SigningBehavior").unwrap_or("always"),
        ))
        .signing_protocol(OriginAccessControlSigningProtocols::from(
            text(&config, "/SigningProtocol").unwrap_or("sigv4"),
        ))
        .build()
        .map_err(|e| crate::Error::Aws(format!("OriginAccessControlConfig: {e}")))?;
    let out = clients
        .cloudfront
        .create_origin_access_control()
        .origin_access_control_config(built)
        .send()
        .await
        .map_err(|e| sdk_error("CreateOriginAccessControl", e))?;
    let id = out
        .origin_access_control()
        .map(|o| o.id().to_owned())
        .unwrap_or_default();
    Ok(Made {
        physical_id: id.clone(),
        attributes: [("Id".to_owned(), json!(id))].into(),
    })
}

/// CloudFront deletes only with the current ETag.
async fn delete(clients: &Clients, id: &str) -> Result<(), Error> {
    let etag = clients
        .cloudfront
        .get_origin_access_control()
        .id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetOriginAccessControl", e))?
        .e_tag()
        .map(str::to_owned);
    clients
        .cloudfront
        .delete_origin_access_control()
        .id(id)
        .set_if_match(etag)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteOriginAccessControl", e))
}

async fn read(clients: &Clients, id: &str) -> Result<Option<Value>, Error> {
    let out = found(
        clients
            .cloudfront
            .get_origin_access_control()
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetOriginAccessControl", e)),
    )?;
    let config = out
        .as_ref()
        .and_then(|o| o.origin_access_control())
        .and_then(|o| o.origin_access_control_config());
    Ok(config.map(|c| {
        json!({
            "Name": c.name(),
            "Description": c.description(),
            "OriginAccessControlOriginType": c.origin_access_control_origin_type().as_str(),
            "SigningBehavior": c.signing_behavior().as_str(),
            "SigningProtocol": c.signing_protocol().as_str(),
        })
    }))
}
