//! What a visitor sees when something fails, and what a server that starts
//! behind its migrations says.

mod common;

use common::{client, settings_for};
use http::StatusCode;

#[tokio::test]
async fn a_failing_page_answers_the_500_template_and_the_server_keeps_serving() {
    let (file, client) = client();
    // Break the database under the running app: the front page's query fails.
    tack_orm::Connection::open(&file.url())
        .unwrap()
        .execute_batch("DROP TABLE newsroom_article_tags")
        .unwrap();
    let page = client.get("/").send().await;
    assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let html = page.text();
    assert!(html.contains("Something went wrong on our side."), "{html}");
    assert!(
        !html.contains("newsroom_article_tags"),
        "no internals without debug: {html}"
    );
    let api = client
        .get("/")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(api.content_type(), Some("application/problem+json"));
    // Pages that do not need the broken table still work.
    let css = client.get("/static/css/site.css").send().await;
    assert_eq!(css.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refused_request_is_not_called_a_server_error() {
    let (_file, client) = client();
    let page = client
        .post("/api/auth/token/")
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=ada")
        .send()
        .await;
    assert_eq!(page.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let html = page.text();
    assert!(
        html.contains("<h1>Unsupported Media Type</h1>") && html.contains("application"),
        "{html}"
    );
    assert!(!html.contains("on our side"), "{html}");
    let missing = client.get("/no-such-page/").send().await;
    assert!(missing.text().contains("There is no page here."));
}

#[test]
fn models_ahead_of_the_migrations_are_reported_not_failed_on() {
    let file = tack_test::db::sqlite();
    let db = tack_orm::Database::connect(&file.url()).unwrap();
    // A database from before the auth migration: the first migration only.
    let files = tack_orm::migrations::Migrations::from_embedded(&newsroom::db::MIGRATIONS[..1])
        .and_then(|set| set.labelled(newsroom::db::APP))
        .unwrap();
    tack_orm::migrations::migrate(&db, &files, None).unwrap();
    // The app applies what is missing on start, then serves.
    assert!(newsroom::app(&settings_for(&file.url())).is_ok());
    let all = newsroom::db::migrations().unwrap();
    let status = tack_orm::migrations::showmigrations(&db, &all).unwrap();
    assert_eq!(
        status.len(),
        newsroom::db::MIGRATIONS.len() + 3,
        "{status:?}"
    );
    assert!(status.iter().all(|m| m.applied_at.is_some()), "{status:?}");
}

/// A database made before tack-auth and tack-sessions shipped their
/// migrations: the newsroom's own 0002 created the auth tables, the session
/// table came from `DbStore::create_table`, and the history table had no
/// app column.
fn database_from_before_battery_migrations(url: &str) {
    let db = tack_orm::Database::connect(url).unwrap();
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/before_apps");
    let old = tack_orm::migrations::Migrations::from_dir(&folder).unwrap();
    let conn = db.connection().unwrap();
    for name in old.names() {
        for statement in tack_orm::migrations::sqlmigrate(db.dialect(), &old, &name, false).unwrap()
        {
            conn.execute_batch(&statement).unwrap();
        }
    }
    conn.execute_batch(
        "CREATE TABLE tack_migrations (name VARCHAR(255) NOT NULL PRIMARY KEY, \
         applied_at VARCHAR(64) NOT NULL)",
    )
    .unwrap();
    for name in old.names() {
        conn.execute(
            &format!(
                "INSERT INTO tack_migrations (name, applied_at) VALUES ('{name}', '2026-11-01T00:00:00+00:00')"
            ),
            &[],
        )
        .unwrap();
    }
    let store = tack_sessions::DbStore::new(tack_orm::AsyncDatabase::new(db.clone(), 1));
    conn.execute_batch(&store.create_table_sql(db.dialect()))
        .unwrap();
    conn.execute_batch(
        "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, \
         email, is_staff, is_active, date_joined) VALUES (1, 'x', FALSE, 'ada', '', '', '', \
         FALSE, TRUE, '2026-11-01T00:00:00Z'); \
         INSERT INTO newsroom_author (id, display_name, bio, user_id) VALUES (1, 'Ada', '', 1)",
    )
    .unwrap();
}

/// Every table's columns (name, type, nullability, default), indexes and
/// foreign keys, as one sorted list of lines (SQLite's declared types by
/// their affinity, which is all SQLite keeps of them).
fn schema(db: &tack_orm::Database) -> Vec<String> {
    let conn = db.connection().unwrap();
    let mut lines = Vec::new();
    let mut each = |sql: &str| {
        conn.query(sql, &[], |row| {
            let mut parts = Vec::new();
            for i in 0..row.len() {
                parts.push(format!("{:?}", row.value(i)?));
            }
            lines.push(parts.join(" "));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    };
    match db.dialect() {
        tack_orm::Dialect::Sqlite => {
            let tables = "SELECT name FROM sqlite_master WHERE type = 'table' \
                          AND name NOT LIKE 'sqlite_%'";
            each(&format!(
                "SELECT t.name, c.name, CASE WHEN upper(c.type) LIKE '%INT%' THEN 'integer' \
                 WHEN upper(c.type) LIKE '%CHAR%' OR upper(c.type) LIKE '%TEXT%' THEN 'text' \
                 WHEN upper(c.type) LIKE '%REAL%' OR upper(c.type) LIKE '%DOUB%' THEN 'real' \
                 ELSE 'numeric' END, c.\"notnull\", c.dflt_value, c.pk \
                 FROM ({tables}) t, pragma_table_info(t.name) c"
            ));
            each(&format!(
                "SELECT t.name, i.\"unique\", i.partial, group_concat(c.name) \
                 FROM ({tables}) t, pragma_index_list(t.name) i, pragma_index_info(i.name) c \
                 GROUP BY t.name, i.name"
            ));
            each(&format!(
                "SELECT t.name, f.\"from\", f.\"table\", f.\"to\", f.on_delete \
                 FROM ({tables}) t, pragma_foreign_key_list(t.name) f"
            ));
        }
        _ => {
            each(
                "SELECT table_name::text, column_name::text, data_type::text, \
                 is_nullable::text, coalesce(column_default, '')::text \
                 FROM information_schema.columns WHERE table_schema = current_schema()",
            );
            each(
                "SELECT replace(indexdef, schemaname || '.', '')::text FROM pg_indexes \
                 WHERE schemaname = current_schema()",
            );
            each(
                "SELECT conrelid::regclass::text, pg_get_constraintdef(oid)::text \
                 FROM pg_constraint WHERE connamespace = current_schema()::regnamespace",
            );
        }
    }
    lines.sort();
    lines
}

fn an_old_database_ends_like_a_new_one(old_url: &str, new_url: &str) {
    database_from_before_battery_migrations(old_url);
    let old = newsroom::db::open(old_url).unwrap();
    let new = newsroom::db::open(new_url).unwrap();
    let set = newsroom::db::migrations().unwrap();
    for db in [&old, &new] {
        let report = tack_orm::migrations::check(db, &newsroom::models::all(), &set).unwrap();
        assert!(report.is_ok(), "{report}");
    }
    assert_eq!(schema(&old), schema(&new));
    let status = tack_orm::migrations::showmigrations(&old, &set).unwrap();
    let names: Vec<String> = status.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "[X] 0001_initial",
            "[X] auth.0001_initial",
            "[X] 0002_auth_and_author_user",
            "[X] 0003_add_newsroom_article_cover",
            "[X] 0004_comment_body_max_length",
            "[X] auth.0002_throttle",
            "[X] sessions.0001_initial"
        ]
    );
    // The rows are where they were.
    let conn = old.connection().unwrap();
    let mut linked = Vec::new();
    conn.query(
        "SELECT a.display_name, u.username FROM newsroom_author a JOIN auth_user u ON u.id = a.user_id",
        &[],
        |row| {
            linked.push((row.get::<String>(0)?, row.get::<String>(1)?));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(linked, [("Ada".to_owned(), "ada".to_owned())]);
}

#[test]
fn an_old_sqlite_database_ends_like_a_new_one() {
    let (old, new) = (tack_test::db::sqlite(), tack_test::db::sqlite());
    an_old_database_ends_like_a_new_one(&old.url(), &new.url());
}

#[test]
fn an_old_postgres_database_ends_like_a_new_one() {
    let Some(old) = tack_test::db::postgres("an old newsroom database") else {
        return;
    };
    let Some(new) = tack_test::db::postgres("a new newsroom database") else {
        return;
    };
    an_old_database_ends_like_a_new_one(old.url(), new.url());
}
