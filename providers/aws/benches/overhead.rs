//! What stratus costs on top of the raw clients, against moto (same emulator, same run):
//!
//! - blob put/get of 1 KiB and 1 MiB: stratus `s3` (through `Stratus::open`, i.e. with the
//!   validation layer) vs raw `object_store` `AmazonS3` configured identically;
//! - KV put/get of a 1 KiB value: stratus `dynamodb` vs raw `aws-sdk-dynamodb`
//!   PutItem/GetItem of an equivalent item in the same table.
//!
//! Each group (`blob_put_1k`, ..., `kv_get`) holds a `stratus_*` and a `raw_*` function,
//! so the overhead ratio reads off directly. The blob put groups also hold
//! `raw_put_then_head`: the raw requests stratus `s3` put makes (PutObject + HeadObject). Needs the `aws` emulators:
//!
//! ```sh
//! conformance/emulators/emulators up aws
//! eval "$(conformance/emulators/emulators env aws)"
//! cargo bench -p stratus-aws --bench overhead
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use stratus::blob::{BlobStore, GetOptions, PutOptions};
use stratus::kv::{Key, KvStore, PutItemOptions};
use stratus::{Bytes, Config, Provider, Registry, ServiceKind, Stratus};
use stratus_aws::{AwsOptions, S3Provider};

const REGION: &str = "us-east-1";
const KV_VALUE_BYTES: usize = 1024;
const SIZES: [(&str, usize); 2] = [("1k", 1024), ("1m", 1024 * 1024)];

/// An environment variable the emulator setup exports, or a panic saying how to get it.
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the AWS emulators with \
             `conformance/emulators/emulators up aws` and load their variables with \
             `eval \"$(conformance/emulators/emulators env aws)\"`"
        )
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Everything both sides of every group use.
struct Setup {
    blob: Arc<dyn BlobStore>,
    kv: Arc<dyn KvStore>,
    raw_s3: AmazonS3,
    raw_dynamodb: aws_sdk_dynamodb::Client,
    table: String,
}

async fn setup() -> Setup {
    let endpoint = env("STRATUS_AWS_ENDPOINT");
    env("AWS_ACCESS_KEY_ID");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let bucket = format!("stratus-bench-{}", &run[..12]);
    let table_prefix = format!("stratus-bench-{}-", &run[..12]);
    let yaml = format!(
        "profiles:\n  bench:\n    blob:\n      provider: s3\n      region: {REGION}\n      endpoint: {endpoint}\n      bucket: {bucket}\n      path_style: true\n    kv:\n      provider: dynamodb\n      region: {REGION}\n      endpoint: {endpoint}\n      table_prefix: {table_prefix}\n"
    );
    let config = Config::parse(
        "bench.yaml",
        &yaml,
        std::path::Path::new("."),
        Arc::new(|_| None),
    )
    .expect("bench profile");
    let profile = config.profile("bench").expect("bench profile");
    let blob_section = &profile
        .service(ServiceKind::Blob)
        .expect("blob section")
        .options;
    S3Provider
        .provision(ServiceKind::Blob, blob_section)
        .await
        .expect("create the bench bucket");

    let mut registry = Registry::new();
    for provider in stratus_aws::providers() {
        registry.register(provider);
    }
    let stratus = Stratus::open(&config, Some("bench"), &registry, Default::default())
        .await
        .expect("open the bench profile");
    let blob = stratus.blob("bench").await.expect("blob store");
    let kv = stratus
        .kv("bench")
        .await
        .expect("kv table (created on open)");

    // The raw clients, configured as the providers configure theirs.
    let raw_s3 = AmazonS3Builder::from_env()
        .with_bucket_name(&bucket)
        .with_virtual_hosted_style_request(false)
        .with_region(REGION)
        .with_endpoint(&endpoint)
        .with_allow_http(endpoint.starts_with("http://"))
        .build()
        .expect("raw object_store client");
    let sdk = AwsOptions {
        region: Some(REGION.to_owned()),
        endpoint: Some(endpoint),
    }
    .sdk_config()
    .await;
    Setup {
        blob,
        kv,
        raw_s3,
        raw_dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        table: format!("{table_prefix}bench"),
    }
}

fn blob(c: &mut Criterion) {
    let rt = runtime();
    let s = rt.block_on(setup());
    for (label, size) in SIZES {
        let body = Bytes::from(vec![b'b'; size]);
        let get_key = format!("get-{label}");
        let raw_get = ObjectPath::from(format!("raw/get-{label}"));
        rt.block_on(async {
            s.blob
                .put(&get_key, body.clone(), PutOptions::default())
                .await
                .expect("stratus seed put");
            s.raw_s3
                .put(&raw_get, PutPayload::from(body.clone()))
                .await
                .expect("raw seed put");
        });

        let mut group = c.benchmark_group(format!("blob_put_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        let put_key = format!("put-{label}");
        group.bench_function("stratus_s3", |b| {
            b.to_async(&rt).iter(|| async {
                s.blob
                    .put(&put_key, body.clone(), PutOptions::default())
                    .await
                    .unwrap()
            })
        });
        let raw_put = ObjectPath::from(format!("raw/put-{label}"));
        group.bench_function("raw_object_store", |b| {
            b.to_async(&rt).iter(|| async {
                s.raw_s3
                    .put(&raw_put, PutPayload::from(body.clone()))
                    .await
                    .unwrap()
            })
        });
        // What stratus `s3` put does on the wire: PutObject, then HeadObject for the
        // object's last_modified/content type (the returned ObjectMeta). The difference
        // between `stratus_s3` and `raw_object_store` is this extra round trip.
        group.bench_function("raw_put_then_head", |b| {
            b.to_async(&rt).iter(|| async {
                s.raw_s3
                    .put(&raw_put, PutPayload::from(body.clone()))
                    .await
                    .unwrap();
                black_box(s.raw_s3.head(&raw_put).await.unwrap())
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("blob_get_{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("stratus_s3", |b| {
            b.to_async(&rt).iter(|| async {
                let got = s.blob.get(&get_key, GetOptions::default()).await.unwrap();
                black_box(got.bytes().await.unwrap())
            })
        });
        group.bench_function("raw_object_store", |b| {
            b.to_async(&rt).iter(|| async {
                let got = s.raw_s3.get(&raw_get).await.unwrap();
                black_box(got.bytes().await.unwrap())
            })
        });
        group.finish();
    }
}

/// The item stratus `dynamodb` writes for a put without TTL: key, value, version.
fn raw_item(partition: &str, sort: &str, value: &Bytes) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(partition.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sort.to_owned())),
        (
            "val".to_owned(),
            AttributeValue::B(Blob::new(value.to_vec())),
        ),
        (
            "ver".to_owned(),
            AttributeValue::S(uuid::Uuid::new_v4().simple().to_string()),
        ),
    ])
}

fn raw_key(partition: &str, sort: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(partition.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sort.to_owned())),
    ])
}

fn kv(c: &mut Criterion) {
    let rt = runtime();
    let s = rt.block_on(setup());
    let value = Bytes::from(vec![b'v'; KV_VALUE_BYTES]);
    let key = Key::new("stratus", "item");
    let (raw_pk, raw_sk) = ("raw", "item");
    rt.block_on(async {
        s.kv.put(&key, value.clone(), PutItemOptions::default())
            .await
            .expect("stratus seed put");
        s.raw_dynamodb
            .put_item()
            .table_name(&s.table)
            .set_item(Some(raw_item(raw_pk, raw_sk, &value)))
            .send()
            .await
            .expect("raw seed put");
    });

    let mut group = c.benchmark_group("kv_put");
    group.bench_function("stratus_dynamodb", |b| {
        b.to_async(&rt).iter(|| async {
            s.kv.put(&key, value.clone(), PutItemOptions::default())
                .await
                .unwrap()
        })
    });
    group.bench_function("raw_aws_sdk", |b| {
        b.to_async(&rt).iter(|| async {
            s.raw_dynamodb
                .put_item()
                .table_name(&s.table)
                .set_item(Some(raw_item(raw_pk, raw_sk, &value)))
                .send()
                .await
                .unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("kv_get");
    group.bench_function("stratus_dynamodb", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(s.kv.get(&key).await.unwrap().unwrap()) })
    });
    group.bench_function("raw_aws_sdk", |b| {
        b.to_async(&rt).iter(|| async {
            let out = s
                .raw_dynamodb
                .get_item()
                .table_name(&s.table)
                .set_key(Some(raw_key(raw_pk, raw_sk)))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            black_box(out.item.unwrap())
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = blob, kv
}
criterion_main!(benches);
