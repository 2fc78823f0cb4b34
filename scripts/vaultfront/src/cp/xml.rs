//! The few fields `cp` reads from S3's XML answers, with the XML decoder
//! the SDK itself uses.

use aws_smithy_xml::decode::{try_data, Document};

/// The text of every element named `name`, in document order.
pub fn texts(xml: &[u8], name: &str) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(xml).map_err(|err| format!("not UTF-8: {err}"))?;
    let mut document = Document::new(text);
    let mut found = Vec::new();
    while let Some(element) = document.next_start_element() {
        if element.local() == name {
            let mut scoped = document.scoped_to(element);
            let data = try_data(&mut scoped).map_err(|err| format!("<{name}>: {err}"))?;
            found.push(data.into_owned());
        }
    }
    Ok(found)
}

/// Text with `&`, `<` and `>` escaped, for an element's content.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_element_of_a_name() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><UploadId>u-1</UploadId>
<Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>
<Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part></ListPartsResult>"#;
        assert_eq!(texts(xml, "PartNumber").unwrap(), ["1", "2"]);
        assert_eq!(texts(xml, "ETag").unwrap(), ["\"a\"", "\"b\""]);
        assert_eq!(texts(xml, "UploadId").unwrap(), ["u-1"]);
        assert!(texts(xml, "Error").unwrap().is_empty());
    }

    #[test]
    fn escapes_what_xml_needs() {
        assert_eq!(escape("\"a&b<c>\""), "\"a&amp;b&lt;c&gt;\"");
    }
}
