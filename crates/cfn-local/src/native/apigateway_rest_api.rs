//! `AWS::ApiGateway::RestApi`: the API itself; its resources, methods and
//! deployments come from the S3 proxy's custom resource. Every change is a
//! replacement locally.

use serde_json::{json, Value};

use super::{found, missing, strings, text, Made, NativeType};
use crate::clients::{sdk_error, Clients};
use crate::template::Resource;
use crate::Error;

pub(super) const TYPE: NativeType = NativeType {
    kind: "AWS::ApiGateway::RestApi",
    create: |clients, _stack, resource, properties| Box::pin(create(clients, resource, properties)),
    update: None,
    delete: |clients, id| Box::pin(delete(clients, id)),
    read: |clients, id| Box::pin(read(clients, id)),
};

async fn create(clients: &Clients, resource: &Resource, properties: &Value) -> Result<Made, Error> {
    use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType};
    let mut request = clients
        .apigateway
        .create_rest_api()
        .name(text(properties, "/Name").ok_or_else(|| missing(resource, "Name"))?)
        .set_description(text(properties, "/Description").map(str::to_owned));
    for media in strings(properties.get("BinaryMediaTypes")) {
        request = request.binary_media_types(media);
    }
    let types: Vec<EndpointType> = strings(properties.pointer("/EndpointConfiguration/Types"))
        .iter()
        .map(|t| EndpointType::from(t.as_str()))
        .collect();
    if !types.is_empty() {
        request = request.endpoint_configuration(
            EndpointConfiguration::builder()
                .set_types(Some(types))
                .build(),
        );
    }
    let out = request
        .send()
        .await
        .map_err(|e| sdk_error("CreateRestApi", e))?;
    let id = out.id().unwrap_or_default().to_owned();
    Ok(Made {
        physical_id: id.clone(),
        attributes: [(
            "RootResourceId".to_owned(),
            json!(out.root_resource_id().unwrap_or_default()),
        )]
        .into(),
    })
}

async fn delete(clients: &Clients, id: &str) -> Result<(), Error> {
    // moto answers DeleteRestApi of a missing API with a 500 (a KeyError),
    // where AWS says NotFoundException: GetRestApi's NotFoundException
    // first, which counts as deleted.
    clients
        .apigateway
        .get_rest_api()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("GetRestApi", e))?;
    clients
        .apigateway
        .delete_rest_api()
        .rest_api_id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeleteRestApi", e))
}

async fn read(clients: &Clients, id: &str) -> Result<Option<Value>, Error> {
    let out = found(
        clients
            .apigateway
            .get_rest_api()
            .rest_api_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetRestApi", e)),
    )?;
    Ok(out.map(|api| {
        json!({
            "Name": api.name(),
            "Description": api.description(),
            "BinaryMediaTypes": api.binary_media_types(),
            "EndpointTypes": api
                .endpoint_configuration()
                .map(|e| e.types().iter().map(|t| t.as_str()).collect::<Vec<_>>()),
        })
    }))
}
