//! The newsroom's admin at `/admin/`: authors, articles, tags and comments
//! for staff, each behind its Django permission.

use std::sync::Arc;

use tack_admin::{AdminSite, ModelAdmin};
use tack_auth::User;
use tack_auth::guard::{Guard, GuardLayer};
use tower::Layer;

use crate::app::Newsroom;
use crate::models::{Article, Author, Comment, Tag};

/// The admin site, sending visitors who are not staff to sign in.
pub fn site(state: &Arc<Newsroom>) -> Guard<AdminSite, User> {
    let media = state.media.clone();
    let site = AdminSite::new(
        "Newsroom administration",
        "/admin/",
        state.db.clone(),
        state.templates.clone(),
    )
    .register::<Author>(ModelAdmin::new().crud(|crud| crud.search_fields(&["display_name"])))
    .register::<Article>(
        ModelAdmin::new()
            .list_display(&["title", "author", "status", "published_at"])
            .fields(crate::models::ARTICLE_WRITABLE)
            .crud(|crud| {
                crud.search_fields(&["title", "body"])
                    .filter_fields(&["status", "author"])
                    .default_ordering("-created_at")
                    .before_create(|_, _, article: &mut Article| {
                        article.created_at = chrono::Utc::now();
                        Ok(())
                    })
            })
            .pages(move |pages| pages.storage(media.clone())),
    )
    .register::<Tag>(ModelAdmin::new())
    .register::<Comment>(
        ModelAdmin::new()
            .list_display(&["author_name", "article", "created_at"])
            .fields(&["article", "author_name", "body"])
            .crud(|crud| {
                crud.before_create(|_, _, comment: &mut Comment| {
                    comment.created_at = chrono::Utc::now();
                    Ok(())
                })
            }),
    );
    GuardLayer::staff_required("/accounts/login/").layer(site)
}
