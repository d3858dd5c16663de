//! How a page's data crosses from the server into the browser. The server functions' answers are
//! read with `serde_json::from_slice`, so the data a page is hydrated with is read the same way:
//! each type's JSON reading code then is in the bundle once instead of twice (the default codec
//! reads from a `&str`, a second copy of every reader, the bundle's largest part).

use crate::model::ApiError;
use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;

/// JSON, written as the default codec writes it, read as the server functions read it.
pub struct Wire;

impl<T: Serialize> Encoder<T> for Wire {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Wire {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A page's data, loaded through a server function.
pub type Loaded<T> = Resource<Result<T, ApiError>, Wire>;

/// Loads a page's data with `fetcher` each time `source` changes (once, on the server, for the
/// first rendering; the browser reads that answer from the page).
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
