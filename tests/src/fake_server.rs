//! The one way a test fake is served: an axum router on a free local port, on its own thread
//! and runtime, so a fake outlives any one test's runtime and every test in a binary shares it.

use axum::Router;

/// Serves `app` on 127.0.0.1 and returns its base URL (`http://127.0.0.1:PORT`).
pub fn spawn(app: Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("fake server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a local port");
            tx.send(listener.local_addr().expect("local address").port())
                .expect("report the port");
            axum::serve(listener, app).await.expect("serve the fake");
        });
    });
    let port = rx.recv().expect("fake server started");
    format!("http://127.0.0.1:{port}")
}
