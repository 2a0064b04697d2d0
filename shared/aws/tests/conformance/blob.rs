use bytes::Bytes;
use gen3d_domain::{KeyPrefix, ObjectFile, ObjectId, ObjectKey, SessionFile, SessionId, UserId};
use gen3d_ports::{BlobStore, PortError};

/// Put, get, head, list by prefix, missing keys, overwrite.
pub async fn suite(store: &dyn BlobStore, location_prefix: &str) {
    let user = UserId::generate();
    let other = UserId::generate();
    let session = SessionId::generate();
    let image = ObjectKey::session_file(&user, &session, SessionFile::Image);
    let mask = ObjectKey::object_file(&user, &session, &ObjectId::generate(), ObjectFile::Mask);
    let foreign = ObjectKey::session_file(&other, &session, SessionFile::Image);

    assert!(matches!(store.get(&image).await, Err(PortError::NotFound(_))), "a missing key is NotFound");
    assert_eq!(store.head(&image).await.unwrap(), None);

    store.put(&image, Bytes::from_static(b"jpeg bytes"), "image/jpeg").await.unwrap();
    store.put(&mask, Bytes::from(vec![7u8; 70_000]), "image/png").await.unwrap();
    store.put(&foreign, Bytes::from_static(b"not yours"), "image/jpeg").await.unwrap();
    assert_eq!(store.get(&image).await.unwrap(), Bytes::from_static(b"jpeg bytes"));
    assert_eq!(store.get(&mask).await.unwrap().len(), 70_000);
    assert_eq!(store.head(&mask).await.unwrap(), Some(70_000));

    let mut listed = store.list(&KeyPrefix::session(&user, &session)).await.unwrap();
    listed.sort();
    let mut want = vec![image.clone(), mask.clone()];
    want.sort();
    assert_eq!(listed, want, "a prefix lists its own keys only");
    assert!(store.list(&KeyPrefix::user(&UserId::generate())).await.unwrap().is_empty());

    store.put(&image, Bytes::from_static(b"second"), "image/jpeg").await.unwrap();
    assert_eq!(store.get(&image).await.unwrap(), Bytes::from_static(b"second"), "a put replaces");

    // Write-once: of racing writers exactly one creates the object; nothing overwrites it.
    let once = ObjectKey::session_file(&user, &SessionId::generate(), SessionFile::Image);
    let put = |i: u8| store.put_new(&once, Bytes::from(vec![i; 1000]), "image/jpeg");
    let raced = tokio::join!(put(0), put(1), put(2), put(3));
    let created = [raced.0.unwrap(), raced.1.unwrap(), raced.2.unwrap(), raced.3.unwrap()];
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "exactly one racer creates: {created:?}");
    let winner = created.iter().position(|c| *c).unwrap() as u8;
    assert_eq!(store.get(&once).await.unwrap(), Bytes::from(vec![winner; 1000]), "the stored bytes are the winner's");
    assert!(!store.put_new(&once, Bytes::from_static(b"late"), "image/jpeg").await.unwrap());
    assert_eq!(store.get(&once).await.unwrap().len(), 1000, "a refused put_new writes nothing");
    let listed = store.list(&KeyPrefix::user(&user)).await.unwrap();
    assert!(listed.iter().all(|k| !k.as_str().contains(".new-")), "no temporary file is listed: {listed:?}");

    assert_eq!(store.location(&image), format!("{location_prefix}{image}"));

    // Delete: gone for good, idempotent, one key only.
    store.delete(&mask).await.unwrap();
    assert!(matches!(store.get(&mask).await, Err(PortError::NotFound(_))), "a deleted key is NotFound");
    assert_eq!(store.head(&mask).await.unwrap(), None);
    store.delete(&mask).await.unwrap();
    assert_eq!(store.list(&KeyPrefix::session(&user, &session)).await.unwrap(), [image.clone()], "the session's other file stays");
    assert_eq!(store.get(&foreign).await.unwrap(), Bytes::from_static(b"not yours"), "another user's file stays");
}
