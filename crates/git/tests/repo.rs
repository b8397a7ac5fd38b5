//! The bare repository through the real `git` program: files in, a commit on main with
//! compare-and-swap, the same files out; symbolic links and submodules refused.

use gatehouse_git::Files;
use gatehouse_git::repo::{Author, ObjectEnv, Repo};
use std::process::Command;

fn files(pairs: &[(&str, &str)]) -> Files {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect()
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git (Debian: apt-get install git)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
async fn files_round_trip_through_commits_on_main() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = Repo::open_or_init(&tmp.path().join("config.git"))
        .await
        .expect("init");
    assert_eq!(repo.head().await.expect("head"), None);
    let one = files(&[
        ("policy.xml", "<policies/>\n"),
        ("apis/a/apiInformation.json", "{}\n"),
    ]);
    let tree = repo.write_tree(&one).await.expect("tree");
    let author = Author::of_actor("alice@example.com");
    assert_eq!(author.email, "alice@example.com");
    let first = repo
        .commit(&tree, None, &author, "first\n")
        .await
        .expect("commit");
    assert_eq!(
        repo.head().await.expect("head").as_deref(),
        Some(first.as_str())
    );
    assert_eq!(repo.tree_of(&first).await.expect("tree"), tree);
    assert_eq!(
        repo.read_files(&first, &ObjectEnv::default())
            .await
            .expect("read"),
        one
    );
    // The same files give the same tree; a commit on a stale parent is refused.
    assert_eq!(repo.write_tree(&one).await.expect("tree"), tree);
    let two = files(&[("policy.xml", "<policies></policies>\n")]);
    let tree2 = repo.write_tree(&two).await.expect("tree");
    let second = repo
        .commit(&tree2, Some(&first), &Author::of_actor("bob"), "second\n")
        .await
        .expect("commit");
    assert!(
        repo.commit(&tree, Some(&first), &author, "stale\n")
            .await
            .is_err()
    );
    assert_eq!(
        repo.head().await.expect("head").as_deref(),
        Some(second.as_str())
    );
    // Authors: a name without '<' or '>', no e-mail unless the actor is one.
    let log = git(repo.dir(), &["log", "--format=%an <%ae>", "main"]);
    assert_eq!(log, "bob <>\nalice@example.com <alice@example.com>");
    assert_eq!(Author::of_actor("<evil>\n").name, "evil");
}

#[tokio::test]
async fn symbolic_links_and_submodules_are_not_configuration() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = Repo::open_or_init(&tmp.path().join("config.git"))
        .await
        .expect("init");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).expect("work");
    git(&work, &["init", "-q", "-b", "main"]);
    std::fs::write(work.join("policy.xml"), "<policies/>").expect("write");
    std::os::unix::fs::symlink("policy.xml", work.join("link.xml")).expect("symlink");
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "with a link"]);
    let bare = repo.dir().to_str().expect("utf-8");
    git(&work, &["push", "-q", bare, "main:refs/heads/other"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    let e = repo
        .read_files(&commit, &ObjectEnv::default())
        .await
        .expect_err("a link is refused");
    assert!(e.to_string().contains("link.xml: symbolic links"), "{e}");
    // A gitlink (a submodule's entry) instead of the link.
    git(&work, &["rm", "-q", "link.xml"]);
    git(
        &work,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{commit},sub"),
        ],
    );
    git(&work, &["commit", "-qm", "with a submodule"]);
    git(&work, &["push", "-q", bare, "main:refs/heads/other"]);
    let commit = git(&work, &["rev-parse", "HEAD"]);
    let e = repo
        .read_files(&commit, &ObjectEnv::default())
        .await
        .expect_err("a submodule is refused");
    assert!(e.to_string().contains("sub: submodules"), "{e}");
}
