/// The backbone's output stride: feature maps are 1/8 of the frame in each
/// direction (dilated ResNet, "D8"), ground truth is sampled at multiples of
/// it, and predictions are upsampled by it. Every layer reads it from here.
public let featureStride = 8
