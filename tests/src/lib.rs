//! Fixtures for vaultfront's tests: a moto server, response sinks, a
//! CloudFormation event builder, the Lambda runtime emulator and a
//! fault-injection proxy between a handler and moto. Each fixture
//! owns its processes and stops them when dropped; their logs are kept under
//! `target/test-logs/`.

pub mod clients;
pub mod event;
pub mod fault_proxy;
pub mod http;
pub mod lambda;
pub mod localstack;
pub mod moto;
pub mod process;
pub mod s3_api;
pub mod sink;

pub use event::{stringify, CfnEvent};
pub use fault_proxy::{Fault, FaultProxy, Match, Rule};
pub use lambda::LambdaEmulator;
pub use localstack::LocalStack;
pub use moto::Moto;
pub use sink::{HttpSink, PresignedSink, Reply};
