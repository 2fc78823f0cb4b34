//! `AWS::KinesisFirehose::DeliveryStream` into S3. The name, type and
//! encryption are fixed (a change is a replacement, refused locally); the S3
//! destination changes in place, as CloudFormation's UpdateDestination.
//! moto's Firehose keeps a delivery stream's configuration but never
//! delivers from it on its own (API Gateway in moto serves no requests, so
//! nothing would write to it anyway).

use serde_json::{json, Value};

use super::{found, generated_name, integer, missing, refused, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

const KIND: &str = "AWS::KinesisFirehose::DeliveryStream";

pub(super) const TYPE: NativeType = NativeType {
    kind: KIND,
    create: |clients, stack, resource, properties| {
        Box::pin(create(clients, stack, resource, properties))
    },
    update: Some(|clients, name, before, after| Box::pin(update(clients, name, before, after))),
    delete: |clients, name| Box::pin(delete(clients, name)),
    read: |clients, name| Box::pin(read(clients, name)),
};

/// The S3 destination as CloudFormation's ExtendedS3DestinationConfiguration says it.
fn s3_destination(
    resource: &str,
    config: &Value,
) -> Result<aws_sdk_firehose::types::ExtendedS3DestinationConfiguration, Error> {
    use aws_sdk_firehose::types::*;
    let needed = |pointer: &str| {
        text(config, pointer).ok_or_else(|| {
            Error::Template(format!(
                "{resource}: ExtendedS3DestinationConfiguration{} is missing",
                pointer.replace('/', ".")
            ))
        })
    };
    let mut builder = ExtendedS3DestinationConfiguration::builder()
        .bucket_arn(needed("/BucketARN")?)
        .role_arn(needed("/RoleARN")?)
        .set_prefix(text(config, "/Prefix").map(str::to_owned))
        .set_error_output_prefix(text(config, "/ErrorOutputPrefix").map(str::to_owned))
        .set_compression_format(text(config, "/CompressionFormat").map(CompressionFormat::from));
    if config.get("BufferingHints").is_some() {
        builder = builder.buffering_hints(
            BufferingHints::builder()
                .set_interval_in_seconds(integer(config, "/BufferingHints/IntervalInSeconds"))
                .set_size_in_mbs(integer(config, "/BufferingHints/SizeInMBs"))
                .build(),
        );
    }
    builder
        .build()
        .map_err(|e| crate::Error::Aws(format!("{resource}: {e}")))
}

async fn create(
    clients: &Clients,
    stack: &str,
    resource: &Resource,
    p: &Value,
) -> Result<Made, Error> {
    use aws_sdk_firehose::types::*;
    let name = text(p, "/DeliveryStreamName")
        .map(str::to_owned)
        .unwrap_or_else(|| generated_name(stack, &resource.logical_id, 64, false));
    let config = p
        .get("ExtendedS3DestinationConfiguration")
        .ok_or_else(|| missing(resource, "ExtendedS3DestinationConfiguration"))?;
    let mut request = clients
        .firehose
        .create_delivery_stream()
        .delivery_stream_name(&name)
        .delivery_stream_type(DeliveryStreamType::from(
            text(p, "/DeliveryStreamType").unwrap_or("DirectPut"),
        ))
        .extended_s3_destination_configuration(s3_destination(&resource.logical_id, config)?);
    if let Some(key_type) = text(p, "/DeliveryStreamEncryptionConfigurationInput/KeyType") {
        request = request.delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::from(key_type))
                .set_key_arn(
                    text(p, "/DeliveryStreamEncryptionConfigurationInput/KeyARN")
                        .map(str::to_owned),
                )
                .build()
                .map_err(|e| crate::Error::Aws(format!("{}: {e}", resource.logical_id)))?,
        );
    }
    let out = request
        .send()
        .await
        .map_err(|e| sdk_error("CreateDeliveryStream", e))?;
    Ok(Made {
        physical_id: name,
        attributes: [("Arn".to_owned(), json!(out.delivery_stream_arn()))].into(),
    })
}

async fn update(clients: &Clients, name: &str, before: &Value, after: &Value) -> Result<(), Error> {
    let fixed = [
        "DeliveryStreamName",
        "DeliveryStreamType",
        "DeliveryStreamEncryptionConfigurationInput",
    ];
    if fixed.iter().any(|key| before.get(key) != after.get(key)) {
        return Err(refused(KIND, name));
    }
    let wanted = after.get("ExtendedS3DestinationConfiguration");
    if before.get("ExtendedS3DestinationConfiguration") == wanted {
        return Ok(());
    }
    let wanted = wanted.ok_or_else(|| {
        Error::Template(format!(
            "{name}: ExtendedS3DestinationConfiguration is missing"
        ))
    })?;
    let built = s3_destination(name, wanted)?;
    let described = clients
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeDeliveryStream", e))?;
    let description = described.delivery_stream_description();
    let destination_id = description
        .and_then(|d| d.destinations().first())
        .map(|d| d.destination_id().to_owned())
        .unwrap_or_default();
    let update = aws_sdk_firehose::types::ExtendedS3DestinationUpdate::builder()
        .bucket_arn(built.bucket_arn())
        .role_arn(built.role_arn())
        .set_prefix(built.prefix().map(str::to_owned))
        .set_error_output_prefix(built.error_output_prefix().map(str::to_owned))
        .set_compression_format(built.compression_format().cloned())
        .set_buffering_hints(built.buffering_hints().cloned())
        .build();
    clients
        .firehose
        .update_destination()
        .delivery_stream_name(name)
        .current_delivery_stream_version_id(description.map(|d| d.version_id()).unwrap_or_default())
        .destination_id(destination_id)
        .extended_s3_destination_update(update)
        .send()
        .await
        .map_err(|e| sdk_error("UpdateDestination", e))?;
    Ok(())
}

async fn delete(clients: &Clients, name: &str) -> Result<(), Error> {
    clients
        .firehose
        .delete_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteDeliveryStream", e))
}

async fn read(clients: &Clients, name: &str) -> Result<Option<Value>, Error> {
    let out = found(
        clients
            .firehose
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeDeliveryStream", e)),
    )?;
    let Some(description) = out.as_ref().and_then(|o| o.delivery_stream_description()) else {
        return Ok(None);
    };
    let s3 = description
        .destinations()
        .first()
        .and_then(|d| d.extended_s3_destination_description());
    let hints = s3.and_then(|s| s.buffering_hints());
    Ok(Some(json!({
        "Arn": description.delivery_stream_arn(),
        "DeliveryStreamType": description.delivery_stream_type().as_str(),
        "BucketARN": s3.map(|s| s.bucket_arn()),
        "RoleARN": s3.map(|s| s.role_arn()),
        "Prefix": s3.and_then(|s| s.prefix()),
        "ErrorOutputPrefix": s3.and_then(|s| s.error_output_prefix()),
        "CompressionFormat": s3.map(|s| s.compression_format().as_str()),
        "IntervalInSeconds": hints.and_then(|h| h.interval_in_seconds()),
        "SizeInMBs": hints.and_then(|h| h.size_in_mbs()),
    })))
}
