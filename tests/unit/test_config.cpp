#include <catch2/catch.hpp>

#include <vector>

#include "resolver/config.hpp"
#include "tmpdir.hpp"

using namespace fractfs;
using fractfs::test::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  std::string root = dir.mkdir("app");
  std::string remote = dir.mkdir("remote");
  std::vector<std::string> env_store;

  Config load(std::vector<std::string> env = {}) {
    env_store = std::move(env);
    std::vector<char*> ptrs;
    for (auto& e : env_store) ptrs.push_back(e.data());
    ptrs.push_back(nullptr);
    LoadOptions o;
    o.root = root;
    o.env = ptrs.data();
    return load_config(o);
  }
  void toml(const std::string& text) { dir.write("app/.fractfs.toml", text); }
  std::string error(std::vector<std::string> env = {}) {
    try {
      load(std::move(env));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  }
};

}  // namespace

TEST_CASE("the documented example loads", "[config]") {
  Fixture f;
  f.toml("backend = \"mount\"\nremote_root = \"" + f.remote +
         "\"\nscratch = \"/tmp/fractfs\"\n"
         "sync_interval = 300\ncheckpoint_subdir = \"_checkpoint\"\ncontent_hash = false\n"
         "auto_ignore_bundle = true\n[dirs]\npaths = [\"data/blobs\", \"exports/\"]\n"
         "[ignore]\npatterns = [\"*.tmp\", \"__pycache__/\", \".locks/\"]\n"
         "[local]\npatterns = [\"manifest.json\", \"*.sqlite\"]\n");
  Config c = f.load();
  CHECK(c.root == f.root);
  CHECK(c.remote_root == f.remote);
  CHECK(c.sync_interval == 300);
  REQUIRE(c.dirs.size() == 2);
  CHECK(c.dirs[1].text == "exports");
  CHECK(c.ignore.size() == 3);
  CHECK(c.local[1].text == "*.sqlite");
  CHECK(c.warnings.empty());
  CHECK(c.origins.at("sync_interval") == f.root + "/.fractfs.toml:4:17");
}

TEST_CASE("environment overrides every scalar, in either spelling", "[config]") {
  Fixture f;
  f.toml("remote_root = \"/nonexistent/x\"\nsync_interval = 5\n");
  Config c = f.load({"FRACTFS_REMOTE_ROOT=" + f.remote, "fractfs_sync_interval=2.5", "FRACTFS_CONTENT_HASH=yes",
                     "FRACTFS_AUTO_IGNORE_BUNDLE=0", "FRACTFS_BACKEND=mount", "FRACTFS_SCRATCH=/var/tmp/ff",
                     "FRACTFS_CHECKPOINT_SUBDIR=ckpt", "FRACTFS_KEEP_GENERATIONS=5", "FRACTFS_RECONCILE_EVERY=0"});
  CHECK(c.remote_root == f.remote);
  CHECK(c.sync_interval == 2.5);
  CHECK(c.content_hash);
  CHECK_FALSE(c.auto_ignore_bundle);
  CHECK(c.scratch == "/var/tmp/ff");
  CHECK(c.checkpoint_subdir == "ckpt");
  CHECK(c.keep_generations == 5);
  CHECK(c.reconcile_every == 0);
  CHECK(c.origins.at("sync_interval") == "fractfs_sync_interval");
}

TEST_CASE("FRACTFS_VOLUME_ROOT is the older name; REMOTE_ROOT wins", "[config]") {
  Fixture f;
  CHECK(f.load({"FRACTFS_VOLUME_ROOT=" + f.remote}).remote_root == f.remote);
  CHECK(f.load({"FRACTFS_VOLUME_ROOT=/nope", "FRACTFS_REMOTE_ROOT=" + f.remote}).remote_root == f.remote);
}

TEST_CASE("volume_root is the older key; remote_root wins, whatever the order", "[config]") {
  Fixture f;
  f.toml("volume_root = \"" + f.remote + "\"\n");
  CHECK(f.load().remote_root == f.remote);
  for (std::string text : {"remote_root = \"" + f.remote + "\"\nvolume_root = \"/nope\"\n",
                           "volume_root = \"/nope\"\nremote_root = \"" + f.remote + "\"\n"}) {
    f.toml(text);
    Config c = f.load();
    CHECK(c.remote_root == f.remote);
    CHECK(c.origins.at("remote_root").find(".fractfs.toml:") != std::string::npos);
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0].find("'volume_root' is ignored: 'remote_root' is set too") != std::string::npos);
  }
}

TEST_CASE("fsspec is an alias of s3", "[config]") {
  Fixture f;
  Config c = f.load({"FRACTFS_BACKEND=fsspec", "FRACTFS_REMOTE_ROOT=s3://bucket/app"});
  CHECK(c.backend == Backend::s3);
}

TEST_CASE("object stores: remote_root URLs, endpoint, addressing, max_parallel", "[config]") {
  Fixture f;
  f.toml(
      "backend = \"s3\"\nremote_root = \"s3://my-bucket/apps/web\"\ns3_endpoint = \"http://127.0.0.1:7480\"\n"
      "s3_addressing = \"path\"\nmax_parallel = 16\n");
  Config c = f.load();
  CHECK(c.s3_endpoint == "http://127.0.0.1:7480");
  CHECK(c.s3_addressing == "path");
  CHECK(c.max_parallel == 16);
  CHECK(c.warnings.empty());
  Config e =
      f.load({"FRACTFS_S3_ENDPOINT=https://minio:9000", "FRACTFS_S3_ADDRESSING=virtual", "FRACTFS_MAX_PARALLEL=4"});
  CHECK(e.s3_endpoint == "https://minio:9000");
  CHECK(e.s3_addressing == "virtual");
  CHECK(e.max_parallel == 4);
  CHECK(e.origins.at("s3_endpoint") == "FRACTFS_S3_ENDPOINT");
  CHECK(f.error({"FRACTFS_S3_ADDRESSING=sideways"}) ==
        "FRACTFS_S3_ADDRESSING: s3_addressing must be \"path\" or \"virtual\", got 'sideways'");
  CHECK(f.error({"FRACTFS_S3_ENDPOINT=minio:9000"}) ==
        "FRACTFS_S3_ENDPOINT: s3_endpoint 'minio:9000' must be an http:// or https:// URL");
  CHECK(f.error({"FRACTFS_MAX_PARALLEL=0"}) == "FRACTFS_MAX_PARALLEL: max_parallel must be between 1 and 64, got 0");
  CHECK(f.error({"FRACTFS_REMOTE_ROOT=s3://B/x"}).find("'B' is not a bucket name") != std::string::npos);
  CHECK(f.error({"FRACTFS_REMOTE_ROOT=/mnt/x"}) ==
        "FRACTFS_REMOTE_ROOT: remote_root '/mnt/x' must be s3://BUCKET[/PREFIX] for backend 's3'");
  CHECK(f.error({"FRACTFS_BACKEND=webdav"}) == f.root +
                                                   "/.fractfs.toml:2:15: remote_root 's3://my-bucket/apps/web' "
                                                   "must be an http:// or https:// URL for backend 'webdav'");
}

TEST_CASE("[dirs] with an object store is a configuration error naming the line", "[config]") {
  Fixture f;
  f.toml("backend = \"webdav\"\nremote_root = \"https://dav.example/app/\"\n[dirs]\npaths = [\"data\"]\n");
  CHECK(f.error() == f.root +
                         "/.fractfs.toml:4:10: [dirs] path 'data': backend 'webdav' cannot hold remote-tier "
                         "directories yet; remove [dirs] (checkpoints still work) or use backend = \"mount\"");
  CHECK(f.error({"FRACTFS_BACKEND=mount"}) == f.root +
                                                  "/.fractfs.toml:2:15: remote_root 'https://dav.example/app/' "
                                                  "is a URL, but backend is \"mount\": set backend = \"webdav\"");
  f.toml("backend = \"webdav\"\nremote_root = \"ftp://x/\"\n");
  CHECK(f.error() == f.root +
                         "/.fractfs.toml:2:15: remote_root 'ftp://x/' must be an http:// or https:// URL for "
                         "backend 'webdav'");
}

TEST_CASE("no remote_root means passthrough, said once", "[config]") {
  Fixture f;
  Config c = f.load();
  CHECK(c.passthrough());
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0].find("passthrough") != std::string::npos);
}

TEST_CASE("errors name the file, line and column", "[config]") {
  Fixture f;
  std::string file = f.root + "/.fractfs.toml";
  f.toml("remote_root = \"/r\"\nsync_interval = = 3\n");
  CHECK(f.error().rfind(file + ":2:", 0) == 0);
  f.toml("sync_interval = \"x\"\n");
  CHECK(f.error() == file + ":1:17: 'sync_interval' must be a number, not a string");
  f.toml("backend = \"ftp\"\n");
  CHECK(f.error().find(file + ":1:11: unknown backend 'ftp'") == 0);
  f.toml("content_hash = \"yes\"\n");
  CHECK(f.error().find(file + ":1:16: 'content_hash' must be true or false") == 0);
  f.toml("[dirs]\npaths = \"data\"\n");
  CHECK(f.error().find(file + ":2:9: [dirs] paths must be an array") == 0);
  f.toml("[dirs]\npaths = [\"ok\", 3]\n");
  CHECK(f.error().find(file + ":2:16: [dirs] paths entries must be strings") == 0);
}

TEST_CASE("bad [dirs] paths are refused", "[config]") {
  Fixture f;
  std::string file = f.root + "/.fractfs.toml";
  auto with_dirs = [&](const std::string& list) {
    f.toml("remote_root = \"" + f.remote + "\"\n[dirs]\npaths = [" + list + "]\n");
    return f.error();
  };
  CHECK(with_dirs("\"/abs\"").find(file + ":3:10: [dirs] path '/abs' must be relative") == 0);
  CHECK(with_dirs("\"a/../b\"").find("must not contain '..'") != std::string::npos);
  CHECK(with_dirs("\".\"").find("names the app root itself") != std::string::npos);
  CHECK(with_dirs("\"\"").find("is empty") != std::string::npos);
  CHECK(with_dirs("\"data\", \"data/blobs\"") ==
        file + ":3:18: [dirs] path 'data/blobs' is nested inside 'data' (" + file + ":3:10); list only the outer one");
  CHECK(with_dirs("\"a\", \"./a/\"").find("listed twice") != std::string::npos);
  CHECK(with_dirs("\"_checkpoint/x\"").find("overlaps checkpoint_subdir") != std::string::npos);
}

TEST_CASE("remote_root and scratch may not be inside the app root", "[config]") {
  Fixture f;
  CHECK(f.error({"FRACTFS_REMOTE_ROOT=" + f.root + "/remote"}) == "FRACTFS_REMOTE_ROOT: remote_root '" + f.root +
                                                                      "/remote' is inside the app root '" + f.root +
                                                                      "': it would redirect into itself");
  CHECK(f.error({"FRACTFS_REMOTE_ROOT=" + f.remote, "FRACTFS_SCRATCH=" + f.root + "/.state"})
            .find("FRACTFS_SCRATCH: scratch") == 0);
  // Passthrough tracks nothing: a root of / or /tmp with no configuration
  // must not fail on the default scratch.
  CHECK(f.load({"FRACTFS_SCRATCH=" + f.root + "/.state"}).passthrough());
  CHECK(f.error({"FRACTFS_REMOTE_ROOT=" + f.dir.path()}).find("must not overlap") != std::string::npos);
  CHECK(f.error({"FRACTFS_REMOTE_ROOT=relative/x"}).find("must be an absolute path") != std::string::npos);
}

TEST_CASE("unparsable environment values name the variable", "[config]") {
  Fixture f;
  CHECK(f.error({"FRACTFS_SYNC_INTERVAL=x"}) == "FRACTFS_SYNC_INTERVAL: expected a number, got 'x'");
  CHECK(f.error({"FRACTFS_SYNC_INTERVAL=-1"}).find("FRACTFS_SYNC_INTERVAL: sync_interval must be >= 0") == 0);
  CHECK(f.error({"FRACTFS_CONTENT_HASH=maybe"}).find("FRACTFS_CONTENT_HASH: expected true/false") == 0);
  CHECK(f.error({"FRACTFS_BACKEND=nfs"}).find("FRACTFS_BACKEND: unknown backend 'nfs'") == 0);
  CHECK(f.error({"FRACTFS_KEEP_GENERATIONS=0"}).find("keep_generations must be >= 1") != std::string::npos);
}

TEST_CASE("unknown keys and variables are warned about, by name", "[config]") {
  Fixture f;
  f.toml("remote_root = \"" + f.remote + "\"\nsync_intervall = 3\n[dir]\npaths = [\"a\"]\n[local]\npattern = []\n");
  Config c = f.load({"FRACTFS_REMOTEROOT=/x", "FRACTFS_LOG=debug"});
  std::string all;
  for (auto& w : c.warnings) all += w + "\n";
  CHECK(all.find("unknown key 'sync_intervall' is ignored (did you mean 'sync_interval'?)") != std::string::npos);
  CHECK(all.find(":3:1: unknown table [dir] is ignored (did you mean [dirs]?)") != std::string::npos);
  CHECK(all.find("unknown key 'pattern' in [local] is ignored (did you mean 'patterns'?)") != std::string::npos);
  CHECK(all.find("FRACTFS_REMOTEROOT: unknown fractfs variable is ignored (did you mean FRACTFS_REMOTE_ROOT?)") !=
        std::string::npos);
  CHECK(all.find("FRACTFS_LOG:") == std::string::npos);  // a known variable
  CHECK(c.warnings.size() == 4);
}

TEST_CASE("FRACTFS_ROOT and FRACTFS_CONFIG", "[config]") {
  Fixture f;
  std::string other = f.dir.write("elsewhere.toml", "sync_interval = 7\n");
  std::vector<std::string> env_store = {"FRACTFS_ROOT=" + f.root, "FRACTFS_CONFIG=" + other};
  std::vector<char*> ptrs;
  for (auto& e : env_store) ptrs.push_back(e.data());
  ptrs.push_back(nullptr);
  LoadOptions o;
  o.env = ptrs.data();
  Config c = load_config(o);
  CHECK(c.root == f.root);
  CHECK(c.file == other);
  CHECK(c.sync_interval == 7);
  env_store[0] = "FRACTFS_ROOT=" + f.root + "/missing";
  ptrs[0] = env_store[0].data();
  CHECK_THROWS_WITH(load_config(o), Catch::Contains("FRACTFS_ROOT: app root"));
}
