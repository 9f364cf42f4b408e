"""The ONNX backend: ``export.py`` writes a span model as ONNX graphs (needs torch);
``runtime.py`` and ``model.py`` run them on onnxruntime with numpy alone, through biomedner's
own text pipeline and decoding."""
