//! The catalog in force: applied from the file at start and on demand, stored with every
//! version, and shared by all requests.

use crate::catalog::{self, CatalogError, LoadedCatalog};
use crate::db::catalog_versions::{self, CatalogVersion};
use crate::db::Db;
use crate::domain::Catalog;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone)]
pub struct ActiveCatalog {
    pub catalog: Catalog,
    /// `None` until a catalog has been applied.
    pub version: Option<CatalogVersion>,
}

#[derive(Debug)]
pub struct CatalogStore {
    file: Option<PathBuf>,
    active: RwLock<Arc<ActiveCatalog>>,
}

#[derive(Debug)]
pub enum Applied {
    New(CatalogVersion),
    Unchanged(CatalogVersion),
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("no catalog file is configured (set RUNWAY_CATALOG)")]
    NoFile,
    #[error(transparent)]
    Invalid(#[from] CatalogError),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl CatalogStore {
    /// Applies the file (already read and validated by the caller, so a bad file is refused
    /// before anything is written), or else resumes the newest stored version.
    pub async fn open(db: &Db, file: Option<(PathBuf, LoadedCatalog)>) -> anyhow::Result<Self> {
        let (file, loaded) = file.unzip();
        let store = CatalogStore {
            file,
            active: RwLock::new(Arc::new(ActiveCatalog {
                catalog: Catalog::default(),
                version: None,
            })),
        };
        if let (Some(path), Some(loaded)) = (&store.file, loaded) {
            store.apply(db, loaded, &path.display().to_string()).await?;
        } else if let Some(version) = catalog_versions::latest(db).await? {
            let loaded = catalog::parse(&version.origin, version.source.clone())
                .context("the stored catalog no longer validates; apply a corrected file with RUNWAY_CATALOG")?;
            store.set(loaded.catalog, version);
        } else {
            tracing::warn!("no catalog applied yet: set RUNWAY_CATALOG to a catalog file");
        }
        Ok(store)
    }

    pub fn current(&self) -> Arc<ActiveCatalog> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, catalog: Catalog, version: CatalogVersion) {
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ActiveCatalog {
            catalog,
            version: Some(version),
        });
    }

    /// Reads and applies the file; a bad file leaves the running version in force.
    pub async fn apply_file(&self, db: &Db) -> Result<Applied, ApplyError> {
        let path = self.file.as_ref().ok_or(ApplyError::NoFile)?;
        let loaded = catalog::load_file(path)?;
        self.apply(db, loaded, &path.display().to_string()).await
    }

    async fn apply(
        &self,
        db: &Db,
        loaded: LoadedCatalog,
        origin: &str,
    ) -> Result<Applied, ApplyError> {
        let latest = catalog_versions::latest(db).await?;
        let (version, outcome): (CatalogVersion, fn(CatalogVersion) -> Applied) = match latest {
            Some(v) if v.checksum == loaded.checksum => (v, Applied::Unchanged),
            _ => (
                catalog_versions::insert(db, &loaded.checksum, &loaded.source, origin).await?,
                Applied::New,
            ),
        };
        tracing::info!(version = version.id, checksum = %version.checksum, "catalog in force");
        self.set(loaded.catalog, version.clone());
        Ok(outcome(version))
    }

    /// Picks up a version another replica applied.
    pub async fn refresh(&self, db: &Db) -> anyhow::Result<()> {
        let current_id = self.current().version.as_ref().map(|v| v.id);
        if let Some(latest) = catalog_versions::latest(db).await? {
            if Some(latest.id) != current_id {
                let loaded = catalog::parse(&latest.origin, latest.source.clone())?;
                tracing::info!(
                    version = latest.id,
                    "catalog version applied elsewhere picked up"
                );
                self.set(loaded.catalog, latest);
            }
        }
        Ok(())
    }
}
