"""Run moto's server with fixes for where moto 5.2.5 is not S3.

Each fix is a documented deviation of moto from AWS that breaks the Rust SDK;
everything else is moto as released. Usage: python moto_server.py -H HOST -p PORT
"""

import sys

import moto.s3.responses as s3_responses
from moto.server import main

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


def get_bucket_versioning(self):
    # moto 5.2.5 answers with the root element <GetBucketVersioningResponse>;
    # S3 (and so the Rust SDK's parser) uses <VersioningConfiguration>.
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?><VersioningConfiguration xmlns="{S3_NAMESPACE}">{inner}</VersioningConfiguration>'
    return 200, {"Content-Type": "application/xml"}, body


s3_responses.S3Response.get_bucket_versioning = get_bucket_versioning

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
