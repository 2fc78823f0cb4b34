//! `AWS::Lambda::EventInvokeConfig`: a function's asynchronous-invoke
//! settings (maximum event age, retries). Locally every function is invoked
//! synchronously under the runtime emulator, so there is nothing to
//! configure, delete or read back. Every change is a replacement locally.

use super::{generated_name, Made, NativeType};

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::Lambda::EventInvokeConfig",
    create: |_clients, stack, resource, _properties| {
        let made = Made {
            physical_id: generated_name(stack, &resource.logical_id, 64, false),
            attributes: Default::default(),
        };
        Box::pin(async { Ok(made) })
    },
    update: None,
    delete: |_clients, _id| Box::pin(async { Ok(()) }),
    read: |_clients, _id| Box::pin(async { Ok(None) }),
};
