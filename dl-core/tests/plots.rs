//! Plots checked structurally: the SVG is valid XML with the expected markers and paths per
//! series, colours from the format string, title and axis labels as text; PNG output decodes at
//! the figure's size and is not blank; bad input is an error with a clear message.

use dl_core::prelude::*;

fn svg_doc(fig: &Figure) -> String {
    let svg = fig.to_svg().unwrap();
    roxmltree::Document::parse(&svg).expect("the SVG is valid XML");
    svg
}

fn elements<'a>(svg: &'a str, tag: &str, attr: &str, value: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    let doc = Box::leak(Box::new(roxmltree::Document::parse(svg).unwrap()));
    doc.descendants().filter(|n| n.has_tag_name(tag) && n.attribute(attr) == Some(value)).collect()
}

fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect()
}

#[test]
fn red_circles_and_a_blue_line_as_on_the_boston_slide() {
    let y_test = array![10.0, 20.0, 30.0, 40.0, 45.0];
    let preds = array![[12.0f32], [19.0], [33.0], [38.0], [44.0]];
    let mut fig = Figure::new();
    fig.plot(&y_test, &preds, "ro").unwrap();
    fig.plot(&[0.0, 50.0], &[0.0, 50.0], "b").unwrap();
    fig.title("predictions").xlabel("truth").ylabel("predicted");
    let svg = svg_doc(&fig);
    assert_eq!(elements(&svg, "circle", "fill", "#FF0000").len(), 5, "one red marker per point");
    assert!(elements(&svg, "polyline", "stroke", "#FF0000").is_empty(), "a marker alone draws no line");
    let blue = elements(&svg, "polyline", "stroke", "#0000FF");
    assert_eq!(blue.len(), 1, "one solid blue line");
    assert_eq!(blue[0].attribute("points").unwrap().split_whitespace().count(), 2);
    assert!(elements(&svg, "circle", "fill", "#0000FF").is_empty(), "a colour alone draws no markers");
    let t = texts(&svg);
    for want in ["predictions", "truth", "predicted", "0", "50"] {
        assert!(t.iter().any(|s| s == want), "text {want:?} missing from {t:?}");
    }
}

#[test]
fn line_styles_markers_and_default_colours() {
    let x = [0.0, 1.0, 2.0, 3.0];
    let y = [1.0, 3.0, 2.0, 4.0];
    let mut fig = Figure::new();
    fig.plot(&x, &y, "k--").unwrap();
    fig.plot(&x, &y, "g^-").unwrap();
    fig.plot(&x, &y, "").unwrap(); // third series: matplotlib's third default colour
    let svg = svg_doc(&fig);
    assert!(elements(&svg, "polyline", "stroke", "#000000").len() > 8, "a dashed line is drawn as many dashes");
    assert_eq!(elements(&svg, "polygon", "fill", "#008000").len(), 4, "four green triangles");
    assert_eq!(elements(&svg, "polyline", "stroke", "#008000").len(), 1, "plus one green line");
    assert_eq!(elements(&svg, "polyline", "stroke", "#2CA02C").len(), 1, "the cycle's third colour");
}

#[test]
fn legend_lists_the_labels() {
    let mut fig = Figure::new();
    fig.plot(&[1.0, 2.0], &[1.0, 2.0], "r").unwrap().label("train");
    fig.plot(&[1.0, 2.0], &[2.0, 1.0], "b--").unwrap().label("validation");
    fig.legend();
    let t = texts(&svg_doc(&fig));
    assert!(t.contains(&"train".to_string()) && t.contains(&"validation".to_string()), "{t:?}");
}

#[test]
fn imshow_draws_one_square_pixel_per_value_with_the_binary_colormap() {
    let mut img = Array2::<u8>::zeros((28, 28));
    img[[3, 5]] = 255;
    let mut fig = Figure::new();
    fig.imshow(&img, Colormap::Binary).unwrap();
    let svg = svg_doc(&fig);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    // The background first; the axes' frame (drawn, not filled) is not a pixel.
    let rects: Vec<_> =
        doc.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("fill") != Some("none")).skip(1).collect();
    assert_eq!(rects.len(), 784);
    assert_eq!(rects.iter().filter(|r| r.attribute("fill") == Some("#000000")).count(), 1, "255 is black in binary");
    assert_eq!(rects.iter().filter(|r| r.attribute("fill") == Some("#FFFFFF")).count(), 783, "0 is white");
    for r in &rects {
        let (w, h): (i32, i32) =
            (r.attribute("width").unwrap().parse().unwrap(), r.attribute("height").unwrap().parse().unwrap());
        assert!((w - h).abs() <= 1, "pixels are square (to a pixel of rounding): {w}x{h}");
    }
    // Row 0 is at the top: the black pixel (row 3) is above the middle of the image.
    let black = rects.iter().find(|r| r.attribute("fill") == Some("#000000")).unwrap();
    let top: i32 = black.attribute("y").unwrap().parse().unwrap();
    assert!(top < 150, "row 3 drawn at y = {top}");
}

#[test]
fn hist_scatter_and_subplots() {
    let data: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
    let mut fig = Figure::new();
    fig.subplot(1, 2, 1).unwrap().hist(&data, 5).unwrap().title("hist");
    fig.subplot(1, 2, 2)
        .unwrap()
        .scatter_c(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0], &[0.0, 0.5, 1.0], Colormap::Viridis)
        .unwrap()
        .title("scatter");
    let svg = svg_doc(&fig);
    assert_eq!(elements(&svg, "rect", "fill", "#1F77B4").len(), 5, "five histogram bars");
    assert_eq!(elements(&svg, "circle", "fill", "#440154").len(), 1, "lowest c is viridis's dark purple");
    assert_eq!(elements(&svg, "circle", "fill", "#FDE725").len(), 1, "highest c is viridis's yellow");
    let t = texts(&svg);
    assert!(t.contains(&"hist".to_string()) && t.contains(&"scatter".to_string()));
}

#[test]
fn xticks_put_labels_where_asked() {
    let mut fig = Figure::new();
    fig.plot(&[0.0, 1.0, 2.0], &[5.0, 6.0, 7.0], "b").unwrap();
    fig.xticks(&[0.0, 1.0, 2.0], Some(&["zero", "one", "two"])).unwrap();
    let t = texts(&svg_doc(&fig));
    for w in ["zero", "one", "two"] {
        assert!(t.contains(&w.to_string()), "{t:?}");
    }
}

#[test]
fn a_history_plots_training_and_dashed_validation_curves() {
    let mut model = Sequential::new();
    model.add(Dense::new(1).input_dim(2));
    model.compile("sgd", "mse", &["mae"]).unwrap();
    let x = Array2::from_shape_fn((40, 2), |(i, j)| (i + j) as f32 / 40.0);
    let y = x.column(0).to_owned();
    let h = model
        .fit_with(
            &x,
            &y,
            FitOptions { epochs: 4, batch_size: 8, validation_split: 0.25, verbose: 0, ..Default::default() },
        )
        .unwrap();
    let svg = svg_doc(&h.plot().unwrap());
    let t = texts(&svg);
    for w in ["loss", "mae", "train loss", "val loss", "epoch"] {
        assert!(t.contains(&w.to_string()), "{w:?} missing in {t:?}");
    }
    // Solid training curve: one polyline in the first colour; dashed validation: many pieces.
    let first = elements(&svg, "polyline", "stroke", "#1F77B4").len();
    assert!(first > 3, "{first}");
}

#[test]
fn png_output_decodes_at_the_figure_size_and_is_not_blank() {
    let mut fig = Figure::new();
    fig.figsize(5.0, 3.0).plot(&[0.0, 1.0], &[0.0, 1.0], "r").unwrap().title("png");
    let bytes = fig.to_png().unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (500, 300));
    let px = info.color_type.samples();
    let red = buf.chunks(px).filter(|p| p[0] > 200 && p[1] < 80 && p[2] < 80).count();
    let dark = buf.chunks(px).filter(|p| p[0] < 160 && p[1] < 160 && p[2] < 160).count();
    assert!(red > 100, "the red line is rendered ({red} red pixels)");
    assert!(dark > 100, "axes and text are rendered ({dark} dark pixels)");
    let dir = std::env::temp_dir().join(format!("dl-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    fig.savefig(dir.join("a.png")).unwrap();
    fig.savefig(dir.join("a.svg")).unwrap();
    assert!(std::fs::read_to_string(dir.join("a.svg")).unwrap().starts_with("<svg"));
    assert!(fig.savefig(dir.join("a.jpg")).unwrap_err().to_string().contains(".svg or .png"));
}

#[test]
fn bad_input_is_a_clear_error() {
    let mut fig = Figure::new();
    let e = fig.plot(&[1.0, 2.0, 3.0], &[1.0, 2.0], "r").unwrap_err().to_string();
    assert!(e.contains("x has 3 values but y has 2"), "{e}");
    let empty: [f64; 0] = [];
    assert!(fig.plot(&empty, &empty, "r").unwrap_err().to_string().contains("empty"));
    let e = fig.plot(&[1.0, 2.0], &[1.0, f64::NAN], "r").unwrap_err().to_string();
    assert!(e.contains("y[1] is NaN"), "{e}");
    let e = fig.imshow(&Array3::<f32>::zeros((2, 28, 28)), Colormap::Binary).unwrap_err().to_string();
    assert!(e.contains("2-D") && e.contains("[2, 28, 28]"), "{e}");
    let e = fig.plot(&[1.0], &[1.0], "rz").unwrap_err().to_string();
    assert!(e.contains("unknown character 'z'"), "{e}");
    let e = fig.plot(&Array2::<f32>::zeros((3, 2)), &[1.0, 2.0, 3.0], "r").unwrap_err().to_string();
    assert!(e.contains("[3, 2]") && e.contains(".column(0)"), "{e}");
    assert!(fig.subplot(2, 2, 5).is_err());
    assert!(fig.xticks(&[1.0, 2.0], Some(&["a"])).is_err());
    assert!(fig.hist(&[1.0], 0).is_err());
    assert!("jet".parse::<Colormap>().unwrap_err().to_string().contains("binary, gray or viridis"));
    // Nothing was added by the failed calls: the figure is still empty.
    assert!(!fig.to_svg().unwrap().contains("<circle"));
}

#[test]
fn figures_show_as_png_by_default_and_as_svg_when_asked() {
    use base64::Engine as _;
    let mut fig = Figure::new();
    fig.plot(&[1.0, 2.0], &[2.0, 1.0], "ro").unwrap();
    let png = fig.mime_bundle().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(&png["image/png"]).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(!png.contains_key("image/svg+xml") && png["text/plain"].starts_with("<Figure size 640x480"));
    set_figure_format(FigureFormat::Svg);
    let svg = fig.mime_bundle().unwrap();
    set_figure_format(FigureFormat::Png);
    assert!(svg["image/svg+xml"].contains("<svg") && !svg.contains_key("image/png"));
}

#[test]
fn imshow_ticks_a_28_pixel_image_every_5_pixels_as_matplotlib() {
    let img = Array2::from_shape_fn((28, 28), |(i, j)| (i * j) as f64);
    let mut fig = Figure::new();
    fig.imshow(&img, Colormap::Binary).unwrap();
    let labels = texts(&fig.to_svg().unwrap());
    for label in ["0", "5", "10", "15", "20", "25"] {
        assert!(labels.iter().any(|t| t == label), "no tick {label} in {labels:?}");
    }
}

#[test]
fn a_log_y_scale_labels_values_and_refuses_values_of_zero_or_less() {
    let mut fig = Figure::new();
    fig.plot_y(&[100.0, 10.0, 1.0, 0.1], "-").unwrap().yscale("log").unwrap();
    let labels = texts(&fig.to_svg().unwrap());
    for label in ["0.1", "1", "10", "100"] {
        assert!(labels.iter().any(|t| t == label), "no tick {label} in {labels:?}");
    }
    let mut bad = Figure::new();
    bad.plot_y(&[1.0, 0.0], "-").unwrap().yscale("log").unwrap();
    let err = bad.to_png().unwrap_err().to_string();
    assert!(err.contains("log scale needs values above 0"), "{err}");
    assert!(Figure::new().yscale("logit").is_err());
}
