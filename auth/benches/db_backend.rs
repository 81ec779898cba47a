//! What loading the signed-in user costs per request with the database
//! backend, against one hand-written query for the same row:
//! `cargo bench -p tack-auth --features orm --bench db_backend`
//! (PostgreSQL too when `TACK_TEST_POSTGRES` names a server).

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use futures_executor::block_on;
use tack_auth::token::verify_token;
use tack_auth::{
    AuthBackend, DbBackend, DbTokenStore, NewUser, Permission, create_permissions, models,
};
use tack_orm::{AsyncDatabase, Database, Executor, Value};
use timing::time_pair;

mod timing;

const RUNS: u32 = 2_000;

fn report(what: &str, baseline: Duration, ours: Duration) {
    println!(
        "{what}: one raw query {baseline:?}, tack-auth {ours:?}, ratio {:.2}",
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
}

fn run(name: &str, url: &str) {
    let db = Database::connect(url).expect("the bench database opens");
    db.create_tables(&models::all()).expect("the auth tables");
    let workers = AsyncDatabase::new(db.clone(), 2);
    let backend = DbBackend::new(workers.clone());
    let tokens = DbTokenStore::new(workers);
    // A user in two groups with a permission each, and one of its own.
    let permissions: Vec<Permission> = ["a", "b", "c"]
        .iter()
        .map(|codename| Permission::new("bench", *codename, *codename))
        .collect();
    create_permissions(&db, &permissions).expect("permissions");
    let user = tack_auth::db::insert_user(
        &db,
        NewUser::with_hash(
            "bench",
            "",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        ),
    )
    .expect("the bench user");
    block_on(async {
        backend.add_group("one", ["bench.a"]).await.unwrap();
        backend.add_group("two", ["bench.b"]).await.unwrap();
        backend.add_to_group(&user.id, "one").await.unwrap();
        backend.add_to_group(&user.id, "two").await.unwrap();
        backend.grant(&user.id, "bench.c").await.unwrap();
    });
    let auth = tack_auth::Auth::new(backend.clone(), tack_sessions::SecretKey::generate())
        .with_tokens(tokens.clone());
    let (token, _) = block_on(auth.create_token(&user, "bench")).unwrap();

    let mut sql = String::from("SELECT * FROM ");
    sql.push_str(&db.dialect().quote("auth_user"));
    sql.push_str(" WHERE id = ");
    db.dialect().placeholder_into(&mut sql, 1);
    let key: i64 = user.id.parse().unwrap();
    let raw = || {
        db.with_connection(|conn| {
            conn.query(&sql, &[Value::I64(key)], |row| {
                black_box(row.value(0)?);
                Ok(())
            })
        })
        .unwrap();
    };
    let (baseline, ours) = time_pair(RUNS, raw, || {
        let found = block_on(backend.get_user(&user.id)).unwrap().unwrap();
        assert_eq!(found.permissions.len(), 3);
        black_box(found);
    });
    report(
        &format!("{name} get_user (row, groups and permissions in one query)"),
        baseline,
        ours,
    );
    let (baseline, ours) = time_pair(RUNS, raw, || {
        let now = SystemTime::now();
        black_box(
            block_on(verify_token(&tokens, token.expose(), now))
                .unwrap()
                .unwrap(),
        );
    });
    report(&format!("{name} API token look-up"), baseline, ours);
}

fn main() {
    let dir = tempfile_dir();
    run(
        "SQLite",
        &format!("sqlite://{}", dir.join("bench.sqlite3").display()),
    );
    std::fs::remove_dir_all(&dir).ok();
    if let Some(schema) = tack_test::db::postgres("auth db_backend bench") {
        run("PostgreSQL", schema.url());
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tack-auth-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}
