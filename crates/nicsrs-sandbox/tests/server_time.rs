//! The client takes "now" from the simulator's `Date` header.

use std::time::Duration;

use nicsrs::server_time::TimeSource;
use nicsrs_sandbox::testkit;
use time::macros::datetime;

#[tokio::test]
async fn a_client_reads_the_sandboxs_clock_from_its_answers() {
    let mut config = testkit::config();
    config.now = Some(datetime!(2031-07-04 12:00:00 UTC));
    let sandbox = testkit::start(config).await;
    let client = testkit::client(&sandbox.url(), Duration::from_secs(5));
    assert_eq!(client.server_now(), None);
    let _ = client.collect(testkit::SEED_ID).await.expect("collect");
    let now = client.server_now().expect("an answer was seen");
    assert_eq!(now.source, TimeSource::Server);
    let since = now.at - datetime!(2031-07-04 12:00:00 UTC);
    assert!(
        since >= time::Duration::ZERO && since < Duration::from_secs(5),
        "{now:?}"
    );
}
