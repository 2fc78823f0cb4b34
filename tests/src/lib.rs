//! Fixtures for vaultfront's tests: a moto server, the Lambda runtime
//! emulator, CloudFormation events and responses (all cfn-local's, as the
//! local engine uses them), a misbehaving response sink, LocalStack and a
//! fault-injection proxy between a handler and its emulator. Each fixture
//! owns its processes and stops them when dropped; their logs are kept under
//! `target/test-logs/`.

pub mod fault_proxy;
pub mod lambda;
pub mod localstack;
pub mod moto;
pub mod process;
pub mod s3_api;
pub mod sink;

pub use cfn_local::custom::event;
pub use cfn_local::custom::event::{stringify, Event as CfnEvent};
pub use cfn_local::{clients, http};
pub use fault_proxy::{Fault, FaultProxy, Match, Rule};
pub use lambda::LambdaEmulator;
pub use localstack::LocalStack;
pub use moto::Moto;
pub use sink::{HttpSink, Reply};
