//! SSRF guards end to end: allowlist, scheme, private addresses (literal and
//! via DNS), and redirects, against the fake.

mod common;

use common::*;
use switchboard_graph::{GraphClient, GraphConfig, GraphError, GraphFake, GuardError};

/// A public-looking name pinned to the fake, so a guard that forbids private
/// addresses can still reach it (pinned names skip the address filter).
const PINNED: &str = "media.fake.test";

fn strict_pinned_client(fake: &GraphFake, extra_hosts: &[&str]) -> GraphClient {
    let mut config = GraphConfig::for_fake(fake);
    config.media_guard.allow_private_addresses = false;
    config.media_guard.allowed_hosts = std::iter::once(PINNED)
        .chain(extra_hosts.iter().copied())
        .map(str::to_owned)
        .collect();
    GraphClient::with_dns_overrides(config, &[(PINNED, fake.socket_addr())]).unwrap()
}

/// The fake's download URL for `MEDIA_ID`, rewritten to the pinned name.
async fn pinned_url(fake: &GraphFake, client: &GraphClient) -> String {
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let mut url = url::Url::parse(&info.url).unwrap();
    url.set_host(Some(PINNED)).unwrap();
    assert_eq!(url.port(), Some(fake.socket_addr().port()));
    url.to_string()
}

async fn fake_with_media() -> GraphFake {
    let fake = fake().await;
    fake.add_media(MEDIA_ID, sample_bytes(2048), "image/jpeg");
    fake
}

#[tokio::test]
async fn host_not_in_allowlist_is_refused_without_a_request() {
    let fake = fake_with_media().await;
    let client = client_with(&fake, |g| {
        g.allowed_hosts = vec!["lookaside.fbsbx.com".into()]
    });
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::Guard(GuardError::HostNotAllowed { host }) if host == "127.0.0.1"),
        "{err:?}"
    );
    assert!(err.needs_fresh_url());
    assert_eq!(downloads_seen(&fake), 0);
}

#[tokio::test]
async fn https_only_guard_refuses_http() {
    let fake = fake_with_media().await;
    let client = client_with(&fake, |g| g.allow_plain_http = false);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::Guard(GuardError::SchemeNotAllowed { scheme }) if scheme == "http"),
        "{err:?}"
    );
    assert_eq!(downloads_seen(&fake), 0);
}

#[tokio::test]
async fn loopback_literal_is_refused_when_private_addresses_are_not_allowed() {
    let fake = fake_with_media().await;
    let client = client_with(&fake, |g| g.allow_private_addresses = false);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    assert!(
        matches!(err, GraphError::Guard(GuardError::PrivateAddress { .. })),
        "{err:?}"
    );
    assert_eq!(downloads_seen(&fake), 0);
}

#[tokio::test]
async fn names_resolving_to_loopback_are_refused_by_the_resolver() {
    let fake = fake_with_media().await;
    let client = client_with(&fake, |g| {
        g.allow_private_addresses = false;
        g.allowed_hosts = vec!["localhost".into()];
    });
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    let url = info.url.replace("127.0.0.1", "localhost");
    // `check_url` cannot know what `localhost` resolves to …
    assert!(client.media_guard().check_url(&url).is_ok());
    // … the resolver does, and refuses before connecting.
    let err = client.download(TOKEN, &url).await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Guard(
                GuardError::PrivateAddress { .. } | GuardError::NoPublicAddress { .. }
            )
        ),
        "{err:?}"
    );
    assert_eq!(downloads_seen(&fake), 0);
}

#[tokio::test]
async fn pinned_public_name_reaches_the_fake_under_a_strict_guard() {
    let fake = fake_with_media().await;
    let client = strict_pinned_client(&fake, &[]);
    let url = pinned_url(&fake, &client).await;
    let got = collect(client.download(TOKEN, &url).await.unwrap()).await;
    assert_eq!(got.unwrap(), sample_bytes(2048));
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused() {
    let fake = fake_with_media().await;
    // Allowlisted on purpose: the refusal must come from the address check.
    let client = strict_pinned_client(&fake, &["127.0.0.1", "10.0.0.1", "169.254.169.254"]);
    let url = pinned_url(&fake, &client).await;
    let port = fake.socket_addr().port();
    let targets = [
        format!("http://127.0.0.1:{port}/whatsapp_business/attachments/?mid={MEDIA_ID}&hash=x"),
        "http://10.0.0.1/internal".to_owned(),
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/".to_owned(),
    ];
    for target in targets {
        fake.redirect_downloads_to(&target);
        let before = downloads_seen(&fake);
        let err = client.download(TOKEN, &url).await.unwrap_err();
        match &err {
            GraphError::Redirect { location } => {
                assert!(!location.contains('?'), "location is redacted: {location}");
                assert!(
                    target.starts_with(location.as_str()),
                    "{location} vs {target}"
                );
            }
            other => panic!("{target}: unexpected {other:?}"),
        }
        assert!(err.needs_fresh_url());
        assert_eq!(
            downloads_seen(&fake),
            before + 1,
            "redirect was not followed"
        );
    }
}

#[tokio::test]
async fn redirect_to_a_name_resolving_privately_is_refused() {
    let fake = fake_with_media().await;
    let client = strict_pinned_client(&fake, &["localhost"]);
    let url = pinned_url(&fake, &client).await;
    let port = fake.socket_addr().port();
    fake.redirect_downloads_to(&format!(
        "http://localhost:{port}/whatsapp_business/attachments/"
    ));
    let err = client.download(TOKEN, &url).await.unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Guard(
                GuardError::PrivateAddress { .. } | GuardError::NoPublicAddress { .. }
            )
        ),
        "{err:?}"
    );
    assert_eq!(downloads_seen(&fake), 1);
}

#[tokio::test]
async fn redirect_to_unlisted_host_or_https_downgrade_is_refused() {
    let fake = fake_with_media().await;
    let client = strict_pinned_client(&fake, &[]);
    let url = pinned_url(&fake, &client).await;
    for target in ["http://evil.example/steal", "ftp://media.fake.test/x"] {
        fake.redirect_downloads_to(target);
        let err = client.download(TOKEN, &url).await.unwrap_err();
        assert!(
            matches!(err, GraphError::Redirect { .. }),
            "{target}: {err:?}"
        );
    }
}

#[tokio::test]
async fn redirect_chains_stop_after_three_hops() {
    let fake = fake_with_media().await;
    let client = client(&fake);
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    // Same-origin self-redirect: allowed by the guard, so only the hop limit stops it.
    fake.redirect_downloads_to(&info.url);
    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    assert!(matches!(err, GraphError::Redirect { .. }), "{err:?}");
    assert_eq!(
        downloads_seen(&fake),
        4,
        "original request + 3 followed hops"
    );
}

#[tokio::test]
async fn followed_cross_origin_redirect_does_not_carry_the_token() {
    let origin = fake_with_media().await;
    let other = fake_with_media().await;
    let client = client(&origin);
    let other_info = GraphClient::new(GraphConfig::for_fake(&other))
        .unwrap()
        .media_info(TOKEN, MEDIA_ID, None)
        .await
        .unwrap();
    let info = client.media_info(TOKEN, MEDIA_ID, None).await.unwrap();
    origin.redirect_downloads_to(&other_info.url);

    let err = client.download(TOKEN, &info.url).await.unwrap_err();
    // The hop was followed (same host, other port: allowlisted) but the
    // Authorization header was dropped, so the other server rejects it.
    assert_eq!(downloads_seen(&other), 1);
    assert!(matches!(err, GraphError::TokenExpired { .. }), "{err:?}");
}
