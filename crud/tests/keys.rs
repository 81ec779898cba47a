//! Primary keys that are not database-assigned integers: UUIDs in the URL,
//! set by the client or by the model's default.

mod common;

use serde_json::{Value, json};
use tack_crud::{AllowAll, Crud};
use tack_orm::AsyncDatabase;
use tack_orm::prelude::*;
use uuid::Uuid;

#[derive(Model, Clone, Debug)]
#[tack(app = "keys")]
struct Token {
    #[tack(primary_key, default = Uuid::new_v4())]
    key: Uuid,
    #[tack(max_length = 20)]
    label: String,
}

async fn uuid_keys(db: tack_orm::Database) {
    db.create_tables(&[Token::meta()]).unwrap();
    let c =
        common::client(Crud::<Token>::new(AsyncDatabase::new(db.clone(), 1)).permission(AllowAll));
    // The default assigns a key.
    let r = c.post("/").json(&json!({"label": "first"})).send().await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let first: Value = r.json();
    let key: Uuid = first["key"].as_str().unwrap().parse().unwrap();
    assert_eq!(r.location(), Some(format!("/{key}/").as_str()));
    // A client-chosen key; taking it again is a conflict, not an overwrite.
    let chosen = Uuid::new_v4();
    let body = json!({"key": chosen, "label": "second"});
    assert_eq!(c.post("/").json(&body).send().await.status(), 201);
    let again = json!({"key": chosen, "label": "overwrite"});
    let r = c.post("/").json(&again).send().await;
    assert_eq!(r.status(), 409, "{}", r.text());
    assert!(r.json::<Value>()["errors"]["key"].is_array());
    let stored: Value = c.get(&format!("/{chosen}/")).send().await.json();
    assert_eq!(stored["label"], "second");
    // The key is not changed by an update.
    let r = c
        .patch(&format!("/{chosen}/"))
        .json(&json!({"key": Uuid::new_v4(), "label": "renamed"}))
        .send()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>()["key"], json!(chosen));
    for path in ["/not-a-uuid/", &format!("/{}/", Uuid::new_v4())] {
        assert_eq!(c.get(path).send().await.status(), 404, "{path}");
    }
    assert_eq!(Token::objects().count(&db).unwrap(), 2);
}

on_both_databases!(uuid_keys);
