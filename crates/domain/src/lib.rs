//! Touban's domain model: the concepts of DOMAIN.md as types that cannot hold
//! invalid values. No I/O, no async, no SQL; every other crate depends on this
//! one and it depends on none of ours.
#![forbid(unsafe_code)]

mod absence;
mod contact;
mod error;
mod geo;
mod id;
mod institution;
mod network;
mod rota;
mod rules;
mod service;
mod staff;
mod time;

pub use absence::*;
pub use contact::*;
pub use error::ParseError;
pub use geo::*;
pub use id::*;
pub use institution::*;
pub use network::*;
pub use rota::*;
pub use rules::*;
pub use service::*;
pub use staff::*;
pub use time::*;

pub use chrono;
pub use chrono_tz;
