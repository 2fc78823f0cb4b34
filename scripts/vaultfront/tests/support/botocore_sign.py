"""The independent side of the signed-URL tests: botocore's CloudFrontSigner.

  botocore_sign.py genkey FILE                       an RSA 2048 key, PKCS#1 PEM
  botocore_sign.py canned KEY_FILE KEY_PAIR_ID URL EXPIRES
  botocore_sign.py custom KEY_FILE KEY_PAIR_ID RESOURCE EXPIRES

Prints botocore's signed URL. The RSA signer is PKCS#1 v1.5 over SHA-256
from the `cryptography` package (a dependency of moto in the tool venv);
botocore builds the policy, the base64 and the URL itself.
"""

import datetime
import sys

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def main() -> None:
    mode = sys.argv[1]
    if mode == "genkey":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        with open(sys.argv[2], "wb") as out:
            out.write(pem)
        return
    key_file, key_pair_id, resource, expires = sys.argv[2:6]
    with open(key_file, "rb") as source:
        key = serialization.load_pem_private_key(source.read(), password=None)
    signer = CloudFrontSigner(
        key_pair_id,
        lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA256()),
    )
    until = datetime.datetime.fromtimestamp(int(expires), tz=datetime.timezone.utc)
    if mode == "canned":
        print(signer.generate_presigned_url(resource, date_less_than=until))
    elif mode == "custom":
        policy = signer.build_policy(resource, until)
        print(signer.generate_presigned_url(resource, policy=policy))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
