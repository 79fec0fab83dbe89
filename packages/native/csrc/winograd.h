// Winograd F(2×2, 3×3) for the 3×3 convolutions conv.h runs: the switch (public) and the entry
// points conv.cc calls (detail).
#pragma once

#include "conv.h"

namespace probunet {

// Stride-1, undilated 3×3 convolutions with at least 8 input and 8 output channels (the forward
// pass, the input gradient through it, and the filter gradient) run as Winograd F(2×2, 3×3) (the
// filter gradient as F(3×3, 2×2)): 2.25× fewer multiplications, results within float rounding of the
// direct product. On unless PROBUNET_NATIVE_WINOGRAD=0 at load; set_winograd switches it between calls.
bool winograd();
void set_winograd(bool on);

namespace detail {

// Whether Winograd is on and takes this shape: 3×3, stride 1, undilated, at least 8 input and 8
// output channels (enough that the products dominate the transforms).
bool winograd_applies(const ConvShape& s);
// conv2d and conv2d_backprop_filter (conv.h) for a shape winograd_applies to.
void conv2d_winograd(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep);
void conv2d_backprop_filter_winograd(const ConvShape& s, const float* x, const float* dy, float* dw);

}  // namespace detail
}  // namespace probunet
