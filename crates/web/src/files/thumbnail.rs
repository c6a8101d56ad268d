//! Thumbnails of uploaded images, decoded with the `image` crate under limits: the pixel count the
//! file claims is checked before decoding, so a small file claiming a huge image (a decompression
//! bomb) is refused without allocating it, and the decoder's allocations are capped as well.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// The longest side of a thumbnail, pixels.
pub(crate) const THUMBNAIL_SIDE: u32 = 320;

/// A PNG thumbnail and its size.
#[derive(Debug)]
pub(crate) struct Made {
    pub(crate) png: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ImageRefusal {
    #[error("the image is {width}×{height} pixels; at most {limit} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
}

/// Whether files of `content_type` get a thumbnail.
pub(crate) fn format_of(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" => ImageFormat::from_mime_type(content_type),
        _ => None,
    }
}

/// A thumbnail of `bytes` (an image in `format`) with at most `max_pixels` pixels. Slow: call it off
/// the async threads.
pub(crate) fn make(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<Made, ImageRefusal> {
    let unreadable = |e: image::ImageError| ImageRefusal::Unreadable(e.to_string());
    let image = decode(bytes, format, max_pixels)?;
    let (width, height) = (image.width(), image.height());
    let thumbnail = if width <= THUMBNAIL_SIDE && height <= THUMBNAIL_SIDE {
        image
    } else {
        image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    };
    let mut png = Vec::new();
    thumbnail.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).map_err(unreadable)?;
    Ok(Made { png, width: thumbnail.width(), height: thumbnail.height() })
}

/// Decodes `bytes` (an image in `format`) of at most `max_pixels` pixels, checking the size the file
/// claims before allocating it.
fn decode(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<image::DynamicImage, ImageRefusal> {
    let unreadable = |e: image::ImageError| ImageRefusal::Unreadable(e.to_string());
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageRefusal::TooManyPixels { width, height, limit: max_pixels });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // The decoded image (at most 16 bytes a pixel) and the decoder's working memory.
    limits.max_alloc = Some(max_pixels.saturating_mul(16).saturating_add(64 * 1024 * 1024));
    reader.limits(limits);
    reader.decode().map_err(unreadable)
}

/// The side of an avatar, pixels.
pub(crate) const AVATAR_SIDE: u32 = 128;

/// An avatar from an uploaded picture (PNG, JPEG, GIF or WebP, told by its content): the centred
/// square, scaled to [`AVATAR_SIDE`], as PNG. Slow: call it off the async threads.
pub(crate) fn avatar(bytes: &[u8], max_pixels: u64) -> Result<Vec<u8>, ImageRefusal> {
    let format = image::guess_format(bytes)
        .ok()
        .filter(|f| matches!(f, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP))
        .ok_or_else(|| ImageRefusal::Unreadable("not a PNG, JPEG, GIF or WebP picture".to_owned()))?;
    let image = decode(bytes, format, max_pixels)?;
    let side = image.width().min(image.height());
    let square = image.crop_imm((image.width() - side) / 2, (image.height() - side) / 2, side, side);
    let scaled = square.resize_exact(AVATAR_SIDE, AVATAR_SIDE, image::imageops::FilterType::Lanczos3);
    let mut png = Vec::new();
    scaled
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| ImageRefusal::Unreadable(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use natter_test_support::images::{bomb, png};

    use super::*;

    #[test]
    fn images_get_thumbnails_within_the_box() {
        let made = make(&png(800, 400), ImageFormat::Png, 1_000_000).unwrap();
        assert_eq!((made.width, made.height), (320, 160));
        assert_eq!(image::load_from_memory(&made.png).unwrap().width(), 320);
        let small = make(&png(20, 10), ImageFormat::Png, 1_000_000).unwrap();
        assert_eq!((small.width, small.height), (20, 10), "never enlarged");
    }

    #[test]
    fn avatars_are_centred_squares_of_the_same_side() {
        for (width, height) in [(800, 400), (300, 900), (50, 50)] {
            let made = avatar(&png(width, height), 1_000_000).unwrap();
            let image = image::load_from_memory(&made).unwrap();
            assert_eq!((image.width(), image.height()), (AVATAR_SIDE, AVATAR_SIDE), "{width}x{height}");
        }
        assert!(matches!(avatar(b"%PDF-1.4 not a picture", 1_000_000), Err(ImageRefusal::Unreadable(_))));
        assert!(matches!(
            avatar(&bomb(100_000, 100_000), 40_000_000),
            Err(ImageRefusal::TooManyPixels { .. })
        ));
    }

    #[test]
    fn a_bomb_is_refused_before_decoding() {
        let refused = make(&bomb(100_000, 100_000), ImageFormat::Png, 40_000_000).unwrap_err();
        assert_eq!(
            refused,
            ImageRefusal::TooManyPixels { width: 100_000, height: 100_000, limit: 40_000_000 }
        );
        let garbage = make(b"\x89PNG\r\n\x1a\nnonsense", ImageFormat::Png, 100);
        assert!(matches!(garbage, Err(ImageRefusal::Unreadable(_))));
    }
}
