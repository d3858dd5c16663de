use crate::helpers::*;

const BANKING_PRODUCTION: &str =
    "Production: 1 of Banking owners, then 2 of CAB; you cannot approve your own request";

async fn home_shows_the_requesters_applications_with_their_policy(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let home = app.get_html("/").await;
    assert!(
        home.contains("Banking"),
        "ada (Fintech) may request Banking"
    );
    assert!(home.contains(BANKING_PRODUCTION), "{home}");
    assert!(home.contains("Staging: 1 of Banking owners; you cannot approve your own request"));
    assert!(
        !home.contains("Storefront"),
        "ada may not request Storefront"
    );
}

async fn the_web_team_sees_storefront_whose_staging_needs_no_approval(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("wes").await;
    let home = app.get_html("/").await;
    assert!(home.contains("Storefront"));
    assert!(home.contains("Staging: no approval needed"));
    assert!(!home.contains("app-banking"));
}

async fn an_approver_who_cannot_request_is_told_so(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ben").await;
    let home = app.get_html("/").await;
    assert!(home.contains("None of your teams may request releases."));
    assert!(
        home.contains("role-approver"),
        "the layout shows the approver role"
    );
    assert!(!home.contains("role-requester"));
}

async fn everyone_reads_the_catalog_and_only_admins_see_its_history(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("olga").await;
    let page = app.get_html("/catalog").await;
    assert!(page.contains(BANKING_PRODUCTION));
    assert!(page.contains("Storefront"));
    assert!(
        page.contains("Cleo Board, Dev Board"),
        "CAB members are listed"
    );
    assert!(page.contains("Year-end closing"), "freezes are shown");
    assert!(
        page.contains("Mon–Thu 09:00–17:00 Europe/Paris"),
        "windows are shown"
    );
    assert!(!page.contains("Applied versions"));
    assert!(!page.contains("Re-apply the catalog file"));
    app.login_as("root").await;
    let page = app.get_html("/catalog").await;
    assert!(page.contains("Applied versions"));
    assert!(page.contains("Re-apply the catalog file"));
}

async fn server_functions_refuse_anonymous_callers(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    for name in ["home", "catalog"] {
        let resp = app.rpc(name).await;
        assert_eq!(resp.status(), 401, "{name}");
    }
    let reload = app.post_form("/catalog/reload", "").await;
    assert!(
        location(&reload).starts_with("/login"),
        "re-apply signs in first"
    );
    let viewer = app.rpc("viewer").await;
    assert_eq!(viewer.status(), 200);
    assert_eq!(viewer.text().await.expect("body"), "null");
}

async fn only_admins_may_reapply_the_catalog(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("olga").await;
    let resp = app.post_form("/catalog/reload", "").await;
    assert_eq!(resp.status(), 403);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("Only administrators"));
}

async fn reapplying_a_bad_file_keeps_the_running_version(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("root").await;
    let unchanged = app.post_form_then_page("/catalog/reload", "").await;
    assert!(unchanged.contains("The file is unchanged"), "{unchanged}");

    let good = std::fs::read_to_string(&app.catalog).expect("read");
    std::fs::write(
        &app.catalog,
        good.replace("count = 2, team = \"cab\"", "count = 2, team = \"nobody\""),
    )
    .expect("write");
    let rejected = app.post_form_then_page("/catalog/reload", "").await;
    assert!(
        rejected.contains("The file was refused") && rejected.contains("unknown team"),
        "{rejected}"
    );
    assert!(
        rejected.contains("catalog.toml:"),
        "names the file and line: {rejected}"
    );
    app.login_as("ada").await;
    assert!(
        app.get_html("/").await.contains(BANKING_PRODUCTION),
        "old version still in force"
    );

    std::fs::write(
        &app.catalog,
        good.replace("count = 2, team = \"cab\"", "count = 3, team = \"cab\""),
    )
    .expect("write");
    app.login_as("root").await;
    let applied = app.post_form_then_page("/catalog/reload", "").await;
    assert!(applied.contains("Applied version"), "{applied}");
    app.login_as("ada").await;
    assert!(app.get_html("/").await.contains("then 3 of CAB"));
}

async fn unknown_pages_answer_404(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let resp = app.get("/no/such/page").await;
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.expect("body").contains("Page not found"));
}

crate::on_both_databases!(
    home_shows_the_requesters_applications_with_their_policy,
    the_web_team_sees_storefront_whose_staging_needs_no_approval,
    an_approver_who_cannot_request_is_told_so,
    everyone_reads_the_catalog_and_only_admins_see_its_history,
    server_functions_refuse_anonymous_callers,
    only_admins_may_reapply_the_catalog,
    reapplying_a_bad_file_keeps_the_running_version,
    unknown_pages_answer_404,
);
