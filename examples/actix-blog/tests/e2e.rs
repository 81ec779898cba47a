//! The actix blog over a real socket, as a browser uses it
//! (`blog::scenario`): signing in through actix's handler (which calls the
//! sessions', CSRF's and auth's steps itself), the tack admin through
//! tack-actix writing a post under that sign-in, the tack CRUD API reading
//! it back, signing out.

use std::sync::Arc;

const SECRET: &str = "actix-blog-test-secret-key-long-enough-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_an_editor_and_the_api_over_a_real_socket() {
    let (_dir, db) = blog::scenario::database();
    let app = Arc::new(actix_blog::App::new(db, SECRET).unwrap());
    // actix runs on a system of its own, on its own thread.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || {
                let app = app.clone();
                actix_web::App::new().configure(move |config| app.configure(config))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            sender.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    let addr = receiver.recv().unwrap();
    blog::scenario::visitor_editor_and_api(addr).await;
}
