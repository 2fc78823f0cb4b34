//! `AWS::Lambda::Function` makes nothing in moto: moto runs Lambda only in
//! Docker, which is not here. The function is the workspace binary named in
//! its `Metadata.BuildProperties.Binary`, run by `cargo lambda watch` (the
//! engine starts it); this type names it as CloudFormation would and
//! remembers the binary. Every change is a replacement locally.

use serde_json::{json, Value};

use super::{generated_name, Made, NativeType};
use crate::clients::{ACCOUNT, REGION};
use crate::Error;

/// The attribute under which a function's workspace binary is remembered.
pub const BINARY: &str = "LocalBinary";

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::Lambda::Function",
    create: |_clients, stack, resource, _properties| {
        let name = generated_name(stack, &resource.logical_id, 64, false);
        let binary = resource
            .metadata
            .pointer("/BuildProperties/Binary")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Template(format!(
                    "{}: no Metadata.BuildProperties.Binary names its workspace binary",
                    resource.logical_id
                ))
            });
        Box::pin(async move {
            Ok(Made {
                physical_id: name.clone(),
                attributes: [
                    (
                        "Arn".to_owned(),
                        json!(format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")),
                    ),
                    (BINARY.to_owned(), json!(binary?)),
                ]
                .into(),
            })
        })
    },
    update: None,
    // Nothing in moto to delete, nor to read back.
    delete: |_clients, _name| Box::pin(async { Ok(()) }),
    read: |_clients, _name| Box::pin(async { Ok(None) }),
};
