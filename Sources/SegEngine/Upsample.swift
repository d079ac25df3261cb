import Foundation
import SegFormats

/// Full-resolution prediction from feature-resolution logits, fused so the
/// upsampled logits [K, fH, fW] are never stored: for each output pixel the
/// bilinear value (align_corners=False) of every class, their argmax, and the
/// confidence max_k softmax = 1 / sum_k exp(l_k - l_max).
public func upsampledPrediction(logits: [Float], classes k: Int, height h: Int, width w: Int, factor: Int)
    -> (labels: [UInt8], confidence: [Float])
{
    // logits [k, h, w] -> labels, confidence [h*factor, w*factor]
    let oh = h * factor
    let ow = w * factor
    let ys = bilinearTaps(output: oh, input: h)
    let xs = bilinearTaps(output: ow, input: w)
    var labels = [UInt8](repeating: 0, count: oh * ow)
    var confidence = [Float](repeating: 0, count: oh * ow)
    logits.withUnsafeBufferPointer { lb in
        labels.withUnsafeMutableBufferPointer { labelBuffer in
            confidence.withUnsafeMutableBufferPointer { confidenceBuffer in
                let source = SharedPointer(lb.baseAddress!)
                let labelOut = SharedMutablePointer(labelBuffer.baseAddress!)
                let confidenceOut = SharedMutablePointer(confidenceBuffer.baseAddress!)
                parallelFor(oh) { y in
                    let (y0, y1, fy) = ys[y]
                    var values = [Float](repeating: 0, count: k)
                    for x in 0..<ow {
                        let (x0, x1, fx) = xs[x]
                        var best: Float = -.infinity
                        var bestClass = 0
                        for c in 0..<k {
                            let plane = source.base + c * h * w
                            let top = plane[y0 * w + x0] * (1 - fx) + plane[y0 * w + x1] * fx
                            let bottom = plane[y1 * w + x0] * (1 - fx) + plane[y1 * w + x1] * fx
                            let v = top * (1 - fy) + bottom * fy
                            values[c] = v
                            if v > best {
                                best = v
                                bestClass = c
                            }
                        }
                        var sum: Float = 0
                        for c in 0..<k { sum += expf(values[c] - best) }
                        labelOut[y * ow + x] = UInt8(bestClass)
                        confidenceOut[y * ow + x] = 1 / sum
                    }
                }
            }
        }
    }
    return (labels, confidence)
}

extension Reference {
    /// The plain way: upsample every class plane, then argmax and softmax per pixel.
    public static func upsampledPrediction(logits: [Float], classes k: Int, height h: Int, width w: Int, factor: Int)
        -> (labels: [UInt8], confidence: [Float])
    {
        let planes = (0..<k).map { c in
            resize(
                Array(logits[(c * h * w)..<((c + 1) * h * w)]), height: h, width: w, toHeight: h * factor,
                width: w * factor)
        }
        let n = h * factor * w * factor
        var labels = [UInt8](repeating: 0, count: n)
        var confidence = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let scores = planes.map { $0[i] }
            let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
            labels[i] = UInt8(best)
            confidence[i] = softmax(scores)[best]
        }
        return (labels, confidence)
    }
}
