//! Builds the application from settings and serves it until SIGINT or SIGTERM.

use crate::auth::throttle::LoginThrottle;
use crate::catalog::store::CatalogStore;
use crate::config::Settings;
use crate::db::{sessions::SqlSessionStore, Db};
use crate::demo;
use crate::state::{AppState, Shared};
use anyhow::Context;
use leptos::config::LeptosOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion;

pub struct Application {
    listener: TcpListener,
    /// The Prometheus endpoint's own listener, when `RUNWAY_METRICS_LISTEN` is set.
    metrics: Option<TcpListener>,
    state: AppState,
    port: u16,
    /// The bundle's digests, read once at start (see `http::assets`).
    digests: crate::http::assets::Digests,
    mailer: crate::notify::worker::Mailer,
}

impl Application {
    /// Connects, migrates, applies the catalog, seeds demo users when asked, and binds.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let catalog_file = read_catalog(&settings)?;
        let mailer = crate::notify::worker::Mailer {
            transport: crate::notify::transport::Transport::from_settings(&settings)?,
            from: settings.mail_from.clone(),
            public_url: settings.public_url.clone(),
        };
        let db = Db::connect(&settings.database_url, settings.db_max_connections).await?;
        db.migrate().await?;
        crate::db::audit_trail::chain_unchained(&db)
            .await
            .context("cannot chain the audit trail written before its chain existed")?;
        crate::db::deployments::backfill(&db)
            .await
            .context("cannot read the deployments made before they were kept")?;
        let catalog = CatalogStore::open(&db, catalog_file).await?;
        let pending = crate::service::approvals::settle_all(&db, &catalog.current().catalog)
            .await
            .context("cannot read the requests waiting for approval")?;
        tracing::debug!(pending, "approver queue indexed, reminders started");
        if settings.demo {
            demo::seed(&db)
                .await
                .context("cannot create the demo users")?;
            if settings.demo_history {
                crate::demo_history::seed(&db, &catalog.current(), crate::db::now_ms())
                    .await
                    .context("cannot write the demo's history")?;
            }
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (RUNWAY_LISTEN)", settings.listen))?;
        let local = listener.local_addr()?;
        let metrics =
            match settings.metrics_listen {
                Some(address) => Some(TcpListener::bind(address).await.with_context(|| {
                    format!("cannot listen on {address} (RUNWAY_METRICS_LISTEN)")
                })?),
                None => None,
            };
        // The bundle's digests are read from the site (leptos would look beside the binary).
        let hashes = std::path::absolute(settings.site_dir.join("hash.txt"))?;
        let digests = crate::http::assets::Digests::read(&settings.site_dir);
        let leptos = LeptosOptions::builder()
            .output_name("runway")
            .site_root(settings.site_dir.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(local)
            .hash_files(digests.in_use())
            .hash_file(hashes.to_string_lossy().into_owned().into())
            .build();
        let gate = crate::gate::cache::ApiCache::start(&db, &settings.database_url)?;
        // The default public address names the port asked for, which may be 0 ("any").
        let public_url = if settings.public_url == format!("http://{}", settings.listen) {
            format!("http://{local}")
        } else {
            settings.public_url.clone()
        };
        let oidc = match &settings.sign_in.oidc {
            Some(o) => Some(Arc::new(crate::auth::oidc::Provider::new(
                o.clone(),
                &public_url,
            )?)),
            None => None,
        };
        let state = AppState::new(Shared {
            oidc,
            db,
            gate,
            throttle: Arc::new(LoginThrottle::new(
                settings.login_max_failures,
                Duration::from_secs(settings.login_lockout_secs),
            )),
            catalog: Arc::new(catalog),
            settings: Arc::new(settings),
            leptos,
            reports: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        });
        Ok(Self {
            port: local.port(),
            listener,
            metrics,
            state,
            digests,
            mailer,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // Held for as long as this future lives: stopping the server (or dropping it, as a test
        // does) stops the background tasks and the dispatch worker with it.
        let _background = AbortOnDrop(Some(spawn_background(self.state.clone())));
        let _worker = AbortOnDrop(
            self.state
                .settings
                .dispatch
                .then(|| crate::dispatch::spawn(self.state.clone())),
        );
        let _replicas = AbortOnDrop(crate::replicas::spawn(self.state.clone()));
        let _fanout = AbortOnDrop(Some(tokio::spawn(crate::notify::fanout::run(
            self.state.clone(),
        ))));
        let _mail = AbortOnDrop(Some(tokio::spawn(crate::notify::worker::run(
            self.state.clone(),
            self.mailer,
        ))));
        let _metrics = AbortOnDrop(self.metrics.map(|listener| {
            let router = crate::metrics::router(self.state.db.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics endpoint stopped");
                }
            })
        }));
        let stopping = self.state.stopping.clone();
        let app = crate::http::router(self.state, self.digests);
        // Small answers go out at once: without TCP_NODELAY, a response written in two parts
        // waits for the client's delayed acknowledgement of the first (up to 40 ms).
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Live streams never end by themselves: end them so shutdown can finish.
            let _ = stopping.send(true);
        })
        .await;
        served.context("the server stopped with an error")
    }
}

/// Aborts its task when dropped.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// The configured catalog file, validated before anything is written.
pub fn read_catalog(
    settings: &Settings,
) -> anyhow::Result<Option<(std::path::PathBuf, crate::catalog::LoadedCatalog)>> {
    settings
        .catalog
        .as_ref()
        .map(|path| Ok((path.clone(), crate::catalog::load_file(path)?)))
        .transpose()
}

/// Housekeeping: expired sessions, catalog versions applied by other replicas, SIGHUP reloads,
/// approvals that lapsed before their request was dispatched, reminders and escalations due.
fn spawn_background(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let store = SqlSessionStore::new(state.db.clone());
        let mut sweep = tokio::time::interval(Duration::from_secs(600));
        let mut refresh = tokio::time::interval(Duration::from_secs(15));
        let mut lapse = tokio::time::interval(Duration::from_secs(30));
        let mut webhooks = tokio::time::interval(Duration::from_secs(5));
        let client = crate::ci::http_client();
        let mut hangup = hangup_stream();
        loop {
            tokio::select! {
                _ = sweep.tick() => {
                    if let Err(e) = store.delete_expired().await {
                        tracing::warn!(error = %e, "cannot delete expired sessions");
                    }
                }
                _ = refresh.tick() => {
                    if let Err(e) = state.catalog.refresh(&state.db).await {
                        tracing::warn!(error = %e, "cannot refresh the catalog");
                    }
                }
                _ = lapse.tick() => {
                    match crate::service::approvals::lapse_approvals(&state.db, &state.catalog.current().catalog, crate::db::now_ms()).await {
                        Ok(ids) => {
                            for id in ids {
                                let _ = state.db.changes.send(id);
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot check for lapsed approvals"),
                    }
                    let catalog = state.catalog.current();
                    if let Err(e) = crate::service::approvals::chase_overdue(&state.db, &catalog.catalog, crate::db::now_ms()).await {
                        tracing::warn!(error = %e, "cannot remind the approvers of waiting requests");
                    }
                }
                _ = webhooks.tick() => {
                    if let Err(e) = crate::service::tickets::deliver_webhooks(&state.db, &client).await {
                        tracing::warn!(error = %e, "cannot deliver ticket webhooks");
                    }
                }
                Some(()) = hangup.recv() => {
                    match state.catalog.apply_file(&state.db).await {
                        Ok(outcome) => tracing::info!(?outcome, "catalog re-applied on SIGHUP"),
                        Err(e) => tracing::error!("catalog not re-applied, the running version stays: {e}"),
                    }
                }
            }
        }
    })
}

fn hangup_stream() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            if tx.send(()).await.is_err() {
                break;
            }
        }
    });
    #[cfg(not(unix))]
    drop(tx);
    rx
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
