//! `AWS::Logs::LogGroup`: its retention changes in place.

use serde_json::{json, Value};

use super::{found, generated_name, text, Made, NativeType};
use crate::clients::{sdk_error, Clients, ACCOUNT, REGION};
use crate::template::Resource;
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::Logs::LogGroup",
    create: |clients, stack, resource, properties| {
        Box::pin(create(clients, stack, resource, properties))
    },
    update: Some(|clients, name, _before, after| Box::pin(put_retention(clients, name, after))),
    delete: |clients, name| Box::pin(delete(clients, name)),
    read: |clients, name| Box::pin(read(clients, name)),
};

async fn create(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    properties: &Value,
) -> Result<Made, Error> {
    let name = text(properties, "/LogGroupName")
        .map(str::to_owned)
        .unwrap_or_else(|| generated_name(stack, &resource.logical_id, 512, false));
    clients
        .logs
        .create_log_group()
        .log_group_name(&name)
        .send()
        .await
        .map_err(|e| sdk_error("CreateLogGroup", e))?;
    put_retention(clients, &name, properties).await?;
    Ok(Made {
        physical_id: name.clone(),
        attributes: [(
            "Arn".to_owned(),
            json!(format!(
                "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
            )),
        )]
        .into(),
    })
}

/// `RetentionInDays`, where the properties set it.
async fn put_retention(clients: &Clients, name: &str, properties: &Value) -> Result<(), Error> {
    let Some(days) = properties
        .get("RetentionInDays")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    else {
        return Ok(());
    };
    clients
        .logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("PutRetentionPolicy", e))
}

async fn delete(clients: &Clients, name: &str) -> Result<(), Error> {
    clients
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteLogGroup", e))
}

async fn read(clients: &Clients, name: &str) -> Result<Option<Value>, Error> {
    let out = found(
        clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeLogGroups", e)),
    )?;
    let group = out
        .as_ref()
        .map(|o| o.log_groups())
        .unwrap_or_default()
        .iter()
        .find(|g| g.log_group_name() == Some(name));
    Ok(group.map(|g| {
        json!({
            "Arn": g.arn(),
            "RetentionInDays": g.retention_in_days(),
        })
    }))
}
