//! `AWS::Lambda::Function` makes nothing in moto: moto runs Lambda only in
//! Docker, which is not here. The function is the workspace binary named in
//! its `Metadata.BuildProperties.Binary`, run by `cargo lambda watch` (the
//! engine starts it); this type only names it as CloudFormation would.
//! Every change is a replacement locally.

use serde_json::json;

use super::{generated_name, Made, NativeType};
use crate::clients::{ACCOUNT, REGION};

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::Lambda::Function",
    create: |_clients, stack, resource, _properties| {
        let name = generated_name(stack, &resource.logical_id, 64, false);
        Box::pin(async move {
            Ok(Made {
                physical_id: name.clone(),
                attributes: [(
                    "Arn".to_owned(),
                    json!(format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")),
                )]
                .into(),
            })
        })
    },
    update: None,
    // Nothing in moto to delete, nor to read back.
    delete: |_clients, _name| Box::pin(async { Ok(()) }),
    read: |_clients, _name| Box::pin(async { Ok(None) }),
};
