//! Several portals in one process, as the tests run them: one starting never stalls the pages of
//! another.

use crate::helpers::{spawn_app, Kind};
use std::time::Duration;

/// Listing the pages' routes (done when a portal starts) suppresses every resource's load in the
/// whole process while it runs; a page whose data was first asked for meanwhile used to wait
/// forever. Pages are rendered without pause while other portals start beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_portal_starting_does_not_stall_the_pages_of_another() {
    let Some(app) = spawn_app(Kind::Sqlite).await else {
        return;
    };
    app.login_as("ada").await;
    let starting = tokio::spawn(async {
        for _ in 0..STARTS {
            let others: Vec<_> = (0..4)
                .map(|_| tokio::spawn(spawn_app(Kind::Sqlite)))
                .collect();
            for other in others {
                other
                    .await
                    .expect("started")
                    .expect("another portal")
                    .stop()
                    .await;
            }
        }
    });
    let app = std::sync::Arc::new(app);
    let renders: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut rendered = 0;
                loop {
                    let page = tokio::time::timeout(Duration::from_secs(30), app.get_html("/"))
                        .await
                        .unwrap_or_else(|_| {
                            panic!("the home page stalled while other portals started (after {rendered} renders)")
                        });
                    assert!(page.contains("ada"), "{page}");
                    rendered += 1;
                    if DONE.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                }
                rendered
            })
        })
        .collect();
    starting.await.expect("the other portals started");
    DONE.store(true, std::sync::atomic::Ordering::Relaxed);
    for render in renders {
        assert!(render.await.expect("renders") > 0);
    }
}

/// Portals started, four at a time.
const STARTS: usize = 10;
static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
