//! The LocalStack fixture itself: it starts on the host and serves S3.

use vaultfront_tests::LocalStack;

#[tokio::test]
async fn localstack_starts_and_serves_s3() {
    let localstack = LocalStack::start();
    let s3 = localstack.s3();
    s3.create_bucket()
        .bucket("fixture-check")
        .send()
        .await
        .expect("create bucket on LocalStack");
    s3.put_object()
        .bucket("fixture-check")
        .key("a/b.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .expect("put object on LocalStack");
    let object = s3
        .get_object()
        .bucket("fixture-check")
        .key("a/b.txt")
        .send()
        .await
        .expect("get object");
    let body = object.body.collect().await.expect("read body").into_bytes();
    assert_eq!(&body[..], b"hello");
}
