{
  "targets": [
    {
      "target_name": "probunet_native",
      "sources": ["csrc/addon.cc", "csrc/conv.cc", "csrc/elementwise.cc", "csrc/gemm.cc", "csrc/ops.cc", "csrc/parallel.cc", "csrc/scratch.cc", "csrc/winograd.cc"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O3"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-fPIC"],
      "cflags!": ["-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='mac'", {"xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"]}}]
      ]
    }
  ]
}
