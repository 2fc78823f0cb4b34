//! `AWS::IAM::Role` with its inline policies. The inline policies change in
//! place; another trust policy is a replacement (refused locally).

use serde_json::{json, Value};

use super::{found, generated_name, missing, refused, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

const KIND: &str = "AWS::IAM::Role";

pub(super) const TYPE: NativeType = NativeType {
    kind: KIND,
    create: |clients, stack, resource, properties| {
        Box::pin(create(clients, stack, resource, properties))
    },
    update: Some(|clients, name, before, after| Box::pin(update(clients, name, before, after))),
    delete: |clients, name| Box::pin(delete(clients, name)),
    read: |clients, name| Box::pin(read(clients, name)),
};

async fn create(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    properties: &Value,
) -> Result<Made, Error> {
    let name = generated_name(stack, &resource.logical_id, 64, false);
    let trust = properties
        .get("AssumeRolePolicyDocument")
        .ok_or_else(|| missing(resource, "AssumeRolePolicyDocument"))?;
    let out = clients
        .iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(trust.to_string())
        .set_description(text(properties, "/Description").map(str::to_owned))
        .send()
        .await
        .map_err(|e| sdk_error("CreateRole", e))?;
    put_policies(clients, &name, properties).await?;
    let role = out.role();
    Ok(Made {
        physical_id: name,
        attributes: [
            (
                "Arn".to_owned(),
                json!(role.map(|r| r.arn()).unwrap_or_default()),
            ),
            (
                "RoleId".to_owned(),
                json!(role.map(|r| r.role_id()).unwrap_or_default()),
            ),
        ]
        .into(),
    })
}

async fn update(clients: &Clients, name: &str, before: &Value, after: &Value) -> Result<(), Error> {
    if before.get("AssumeRolePolicyDocument") != after.get("AssumeRolePolicyDocument") {
        return Err(refused(KIND, name));
    }
    put_policies(clients, name, after).await?;
    let keep = policy_names(after);
    for old in policy_names(before)
        .into_iter()
        .filter(|n| !keep.contains(n))
    {
        clients
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(old)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteRolePolicy", e))?;
    }
    Ok(())
}

fn policy_names(properties: &Value) -> Vec<String> {
    properties
        .get("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| text(p, "/PolicyName"))
        .map(str::to_owned)
        .collect()
}

/// Each inline policy of `properties.Policies`, put (created or replaced).
async fn put_policies(clients: &Clients, name: &str, properties: &Value) -> Result<(), Error> {
    for policy in properties
        .get("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        clients
            .iam
            .put_role_policy()
            .role_name(name)
            .policy_name(text(policy, "/PolicyName").unwrap_or("policy"))
            .policy_document(
                policy
                    .get("PolicyDocument")
                    .cloned()
                    .unwrap_or_default()
                    .to_string(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("PutRolePolicy", e))?;
    }
    Ok(())
}

/// A role goes after its inline policies.
async fn delete(clients: &Clients, name: &str) -> Result<(), Error> {
    let policies = clients
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("ListRolePolicies", e))?;
    for policy in policies.policy_names() {
        clients
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteRolePolicy", e))?;
    }
    clients
        .iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteRole", e))
}

async fn read(clients: &Clients, name: &str) -> Result<Option<Value>, Error> {
    let Some(out) = found(
        clients
            .iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("GetRole", e)),
    )?
    else {
        return Ok(None);
    };
    let policies = clients
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("ListRolePolicies", e))?;
    let role = out.role();
    Ok(Some(json!({
        "Arn": role.map(|r| r.arn()),
        "Description": role.and_then(|r| r.description()),
        "Policies": policies.policy_names(),
    })))
}
