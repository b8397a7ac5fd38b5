//! The portal's account pages end to end over the router: sign-up, confirmation by e-mail (a
//! scripted SMTP sink), sign-in with its limits, sign-out, password reset, profile.

mod support;

use gatehouse_model::UserState;
use http::StatusCode;
use support::{Browser, add_user, hidden, link, site, smtp_sink};

const SIGNUP: &[(&str, &str)] = &[
    ("email", "Ann.Lee@Example.com"),
    ("password", "s3cret-pass"),
    ("firstName", "Ann"),
    ("lastName", "Lee"),
];

#[tokio::test]
async fn signup_without_a_mailer_creates_an_active_account_and_signs_in() {
    let site = site(None);
    let mut b = Browser::new(&site);
    let form = b.get("/signup").await;
    assert_eq!(form.status, StatusCode::OK);
    for id in ["email", "password", "firstName", "lastName"] {
        assert!(
            form.body.contains(&format!("<label for=\"{id}\"")),
            "label for {id}"
        );
        assert!(
            form.body.contains(&format!("id=\"{id}\" name=\"{id}\"")),
            "input {id}"
        );
    }
    let done = b.post("/signup", SIGNUP).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/profile?done=welcome"));
    assert!(b.signed_in());
    let cookie = done
        .set_cookies
        .iter()
        .find(|c| c.starts_with("gh_session="))
        .expect("session");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let user = site.backing.user("Ann.Lee@Example.com").expect("created");
    assert_eq!(user.state, UserState::Active);
    assert_eq!(user.id, "ann.lee-example.com");
    assert_eq!(user.first_name.as_deref(), Some("Ann"));
    let hash = user.password_hash.expect("hashed");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let stored = serde_json::to_string(&site.backing.config()).expect("serializes");
    assert!(
        !stored.contains("s3cret-pass"),
        "the password is never stored"
    );

    let profile = b.get("/profile?done=welcome").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.body.contains("Welcome!"));
    assert!(profile.body.contains("Ann Lee"));
}

#[tokio::test]
async fn signup_refuses_duplicates_short_passwords_and_missing_names_keeping_the_input() {
    let site = site(None);
    add_user(
        &site,
        "ann",
        "ann.lee@example.com",
        "old-password",
        UserState::Active,
    )
    .await;
    let mut b = Browser::new(&site);

    let dup = b.post("/signup", SIGNUP).await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert!(dup.body.contains("already exists"), "{}", dup.body);
    assert!(
        dup.body.contains("value=\"Ann.Lee@Example.com\""),
        "keeps the e-mail"
    );
    assert!(
        !dup.body.contains("s3cret-pass"),
        "never echoes the password"
    );

    let short = b
        .post(
            "/signup",
            &[
                ("email", "bob@example.com"),
                ("password", "short"),
                ("firstName", "Bob"),
                ("lastName", "B"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("at least 8 characters"));
    assert!(short.body.contains("value=\"Bob\""), "keeps the name");

    let nameless = b
        .post(
            "/signup",
            &[
                ("email", "bob@example.com"),
                ("password", "long enough"),
                ("firstName", " "),
                ("lastName", "B"),
            ],
        )
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    let bad_email = b
        .post(
            "/signup",
            &[
                ("email", "bob@localhost"),
                ("password", "long enough"),
                ("firstName", "Bob"),
                ("lastName", "B"),
            ],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);
    assert_eq!(site.backing.config().users.len(), 1, "nothing created");
    assert!(!b.signed_in());
}

#[tokio::test]
async fn signup_requires_consent_when_the_terms_say_so_and_can_be_turned_off() {
    let site = site(None);
    site.backing.edit(|c| {
        let t = &mut c.portal.signup.terms_of_service;
        t.enabled = true;
        t.consent_required = true;
        t.text = Some("Be <nice>".into());
    });
    let mut b = Browser::new(&site);
    let form = b.get("/signup").await;
    assert!(form.body.contains("<label for=\"consent\">"));
    assert!(
        form.body.contains("Be &#60;nice&#62;") || form.body.contains("Be &lt;nice&gt;"),
        "escaped"
    );
    let refused = b.post("/signup", SIGNUP).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("Agree to the terms"));
    let mut with = SIGNUP.to_vec();
    with.push(("consent", "yes"));
    assert_eq!(b.post("/signup", &with).await.status, StatusCode::SEE_OTHER);

    site.backing.edit(|c| c.portal.signup.enabled = false);
    let mut other = Browser::new(&site);
    assert_eq!(other.get("/signup").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let site = site(None);
    let mut b = Browser::new(&site);
    b.get("/signup").await;
    let page = b.post_raw("/signup", SIGNUP).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let wrong = [&[("csrf", "00")][..], SIGNUP].concat();
    assert_eq!(
        b.post_raw("/signup", &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(site.backing.config().users.is_empty());
}

#[tokio::test]
async fn signin_is_generic_on_failure_and_names_blocked_and_pending_accounts() {
    let site = site(None);
    add_user(
        &site,
        "ann",
        "ann@example.com",
        "right-password",
        UserState::Active,
    )
    .await;
    add_user(
        &site,
        "bob",
        "bob@example.com",
        "right-password",
        UserState::Blocked,
    )
    .await;
    add_user(
        &site,
        "cy",
        "cy@example.com",
        "right-password",
        UserState::Pending,
    )
    .await;
    let mut b = Browser::new(&site);

    let wrong = b
        .post(
            "/signin",
            &[("email", "ann@example.com"), ("password", "nope-nope")],
        )
        .await;
    let unknown = b
        .post(
            "/signin",
            &[("email", "zed@example.com"), ("password", "nope-nope")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let generic = "The e-mail address or the password is wrong.";
    assert!(wrong.body.contains(generic) && unknown.body.contains(generic));

    let blocked = b
        .post(
            "/signin",
            &[("email", "bob@example.com"), ("password", "right-password")],
        )
        .await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert!(blocked.body.contains("This account is blocked"));
    let pending = b
        .post(
            "/signin",
            &[("email", "cy@example.com"), ("password", "right-password")],
        )
        .await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN);
    assert!(pending.body.contains("Confirm your e-mail first"));
    assert!(!b.signed_in());

    // Case-insensitive e-mail, and a safe local return path is honoured; another site is not.
    let ok = b
        .post(
            "/signin",
            &[
                ("email", "ANN@example.com"),
                ("password", "right-password"),
                ("return", "/apis/x"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/apis/x"));
    assert!(b.signed_in());
    let mut c = Browser::new(&site);
    let evil = c
        .post(
            "/signin",
            &[
                ("email", "ann@example.com"),
                ("password", "right-password"),
                ("return", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(evil.location.as_deref(), Some("/profile"));

    // Sign-out ends the session; a blocked user's session ends with the block.
    let out = b.post("/signout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!b.signed_in());
    assert_eq!(b.get("/profile").await.location.as_deref(), Some("/signin"));
    site.backing.edit(|cfg| {
        if let Some(u) = cfg.users.iter_mut().find(|u| u.id == "ann") {
            u.state = UserState::Blocked;
        }
    });
    assert_eq!(c.get("/profile").await.location.as_deref(), Some("/signin"));
}

#[tokio::test]
async fn failed_signins_are_limited_per_account_and_per_source() {
    let site = site(None);
    add_user(
        &site,
        "ann",
        "ann@example.com",
        "right-password",
        UserState::Active,
    )
    .await;
    let mut b = Browser::new(&site);
    for _ in 0..5 {
        let p = b
            .post(
                "/signin",
                &[("email", "ann@example.com"), ("password", "guess-guess")],
            )
            .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    let locked = b
        .post(
            "/signin",
            &[("email", "ann@example.com"), ("password", "right-password")],
        )
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(!b.signed_in());

    let mut m = Browser::new(&site);
    m.from = Some("192.0.2.7:5555".parse().expect("an address"));
    for i in 0..20 {
        let email = format!("u{i}@example.com");
        let p = m
            .post("/signin", &[("email", &email), ("password", "guess-guess")])
            .await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    let p = m
        .post(
            "/signin",
            &[("email", "new@example.com"), ("password", "guess-guess")],
        )
        .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    m.from = Some("192.0.2.8:5555".parse().expect("an address"));
    let p = m
        .post(
            "/signin",
            &[("email", "new@example.com"), ("password", "guess-guess")],
        )
        .await;
    assert_eq!(
        p.status,
        StatusCode::UNAUTHORIZED,
        "other addresses are not limited"
    );
}

#[tokio::test]
async fn with_a_mailer_signup_is_pending_until_the_emailed_link_is_opened() {
    let (mailer, mut inbox) = smtp_sink().await;
    let site = site(Some(mailer));
    let mut b = Browser::new(&site);
    let page = b.post("/signup", SIGNUP).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Check your e-mail"));
    assert!(!b.signed_in());
    assert_eq!(
        site.backing
            .user("Ann.Lee@Example.com")
            .expect("created")
            .state,
        UserState::Pending
    );

    let pending = b
        .post(
            "/signin",
            &[
                ("email", "ann.lee@example.com"),
                ("password", "s3cret-pass"),
            ],
        )
        .await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN);

    let mail = inbox.recv().await.expect("a message");
    assert!(mail.contains("Ann.Lee@Example.com"), "{mail}");
    let path = link(&mail, "/confirm");
    let bad = b.get("/confirm?token=forged.token").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("not valid"));

    let ok = b.get(&path).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/profile?done=confirmed"));
    assert!(b.signed_in());
    assert_eq!(
        site.backing
            .user("Ann.Lee@Example.com")
            .expect("exists")
            .state,
        UserState::Active
    );
    let profile = b.get("/profile?done=confirmed").await;
    assert!(profile.body.contains("confirmed"));
    // Opened again: nothing to do, no new session from the old link.
    let mut other = Browser::new(&site);
    let again = other.get(&path).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(!other.signed_in());
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once() {
    let (mailer, mut inbox) = smtp_sink().await;
    let site = site(Some(mailer));
    add_user(
        &site,
        "ann",
        "ann@example.com",
        "old-password",
        UserState::Active,
    )
    .await;
    let mut b = Browser::new(&site);
    let unknown = b.post("/reset", &[("email", "zed@example.com")]).await;
    let known = b.post("/reset", &[("email", "ann@example.com")]).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        unknown.body,
        known.body.replace(
            &hidden(&known.body, "csrf").unwrap_or_default(),
            &hidden(&unknown.body, "csrf").unwrap_or_default()
        )
    );
    assert!(known.body.contains("If an account exists"));
    // The unknown address was asked first: the first message is the known one's.
    let mail = inbox.recv().await.expect("a message");
    assert!(mail.contains("ann@example.com"), "{mail}");
    let path = link(&mail, "/reset/confirm");

    let form = b.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    let token = hidden(&form.body, "token").expect("the form carries the token");
    let differ = b
        .post(
            "/reset/confirm",
            &[
                ("token", &token),
                ("password", "new-password"),
                ("confirm", "other-password"),
            ],
        )
        .await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    let set = b
        .post(
            "/reset/confirm",
            &[
                ("token", &token),
                ("password", "new-password"),
                ("confirm", "new-password"),
            ],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert_eq!(set.location.as_deref(), Some("/profile?done=reset"));
    assert!(b.signed_in());

    let mut c = Browser::new(&site);
    assert_eq!(
        c.get(&path).await.status,
        StatusCode::BAD_REQUEST,
        "the link is spent"
    );
    let reuse = c
        .post(
            "/reset/confirm",
            &[
                ("token", &token),
                ("password", "third-password"),
                ("confirm", "third-password"),
            ],
        )
        .await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    let old = c
        .post(
            "/signin",
            &[("email", "ann@example.com"), ("password", "old-password")],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = c
        .post(
            "/signin",
            &[("email", "ann@example.com"), ("password", "new-password")],
        )
        .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn without_a_mailer_resets_say_they_need_email() {
    let site = site(None);
    let mut b = Browser::new(&site);
    let page = b.get("/reset").await;
    assert!(page.body.contains("Password resets need e-mail"));
}

#[tokio::test]
async fn the_profile_changes_the_name_and_the_password_which_ends_other_sessions() {
    let site = site(None);
    add_user(
        &site,
        "ann",
        "ann@example.com",
        "old-password",
        UserState::Active,
    )
    .await;
    let mut here = Browser::new(&site);
    let mut there = Browser::new(&site);
    for b in [&mut here, &mut there] {
        let p = b
            .post(
                "/signin",
                &[("email", "ann@example.com"), ("password", "old-password")],
            )
            .await;
        assert_eq!(p.status, StatusCode::SEE_OTHER);
    }
    let profile = here.get("/profile").await;
    for id in ["firstName", "lastName", "current", "new", "confirm"] {
        assert!(
            profile.body.contains(&format!("<label for=\"{id}\"")),
            "label for {id}"
        );
    }

    let empty = here
        .post("/profile/name", &[("firstName", ""), ("lastName", "Lee")])
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let named = here
        .post(
            "/profile/name",
            &[("firstName", "Annie"), ("lastName", "Leigh")],
        )
        .await;
    assert_eq!(named.location.as_deref(), Some("/profile?done=name"));
    assert_eq!(
        site.backing
            .user("ann@example.com")
            .expect("exists")
            .first_name
            .as_deref(),
        Some("Annie")
    );
    assert_eq!(
        there.get("/profile").await.status,
        StatusCode::OK,
        "a name change keeps sessions"
    );

    let wrong = here
        .post(
            "/profile/password",
            &[
                ("current", "not-it-at-all"),
                ("new", "new-password"),
                ("confirm", "new-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("The current password is wrong."));
    let changed = here
        .post(
            "/profile/password",
            &[
                ("current", "old-password"),
                ("new", "new-password"),
                ("confirm", "new-password"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(changed.location.as_deref(), Some("/profile?done=password"));
    assert_eq!(
        here.get("/profile").await.status,
        StatusCode::OK,
        "this browser stays signed in"
    );
    let ended = there.get("/profile").await;
    assert_eq!(
        ended.location.as_deref(),
        Some("/signin"),
        "the other session ended"
    );
}

#[tokio::test]
async fn reset_mails_are_limited_per_address_whether_or_not_it_has_an_account() {
    let (mailer, _inbox) = smtp_sink().await;
    let site = site(Some(mailer));
    add_user(
        &site,
        "ann",
        "ann@example.com",
        "old-password",
        UserState::Active,
    )
    .await;
    let mut b = Browser::new(&site);
    for address in ["ann@example.com", "Nobody@Example.com"] {
        for i in 0..5 {
            let r = b.post("/reset", &[("email", address)]).await;
            assert_eq!(r.status, StatusCode::OK, "{address} request {i}");
        }
        // The sixth within the window: refused, and nothing is sent.
        let r = b.post("/reset", &[("email", address)]).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{address}");
    }
}
