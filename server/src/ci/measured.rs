//! Every call to a CI server counted and timed for the operator metrics, whatever the connector.

use super::{CiConnector, CiError, RunRef, RunStatus, StartJob};
use std::future::Future;
use std::time::Instant;

/// A connector whose calls are measured.
pub struct Measured {
    pub inner: Box<dyn CiConnector>,
    pub kind: &'static str,
}

impl Measured {
    async fn measure<T>(
        &self,
        call: &'static str,
        work: impl Future<Output = Result<T, CiError>>,
    ) -> Result<T, CiError> {
        let started = Instant::now();
        let result = work.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(CiError::Transient(_)) => "transient",
            Err(CiError::Config(_)) => "config",
        };
        crate::metrics::ci_call(self.kind, call, outcome, started.elapsed().as_secs_f64());
        result
    }
}

#[async_trait::async_trait]
impl CiConnector for Measured {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError> {
        self.measure("start", self.inner.start(job)).await
    }

    async fn status(&self, run: &str) -> Result<RunStatus, CiError> {
        self.measure("status", self.inner.status(run)).await
    }

    async fn cancel(&self, run: &str) -> Result<(), CiError> {
        self.measure("cancel", self.inner.cancel(run)).await
    }

    async fn find(&self, key: &str, target: &str) -> Result<Option<RunRef>, CiError> {
        self.measure("find", self.inner.find(key, target)).await
    }
}
