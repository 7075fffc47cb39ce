//! Convolution (im2col + GEMM), its gradients (col2im), and pooling.

use crate::common::{FLOATS, parity};
use neurite::{DType, Device, Result};

fn conv2d(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 9, 8], 1)?;
        let w = c.rand(&[4, 3, 3, 3], 2)?;
        let b = c.rand(&[4], 3)?;
        let w5 = c.rand(&[2, 3, 5, 2], 4)?;
        Ok(vec![
            x.conv2d(&w, Some(&b), (1, 1), (1, 1))?,
            x.conv2d(&w, None, (2, 1), (0, 2))?,
            x.conv2d(&w5, None, (3, 2), (2, 1))?,
        ])
    })
}
test_device!(conv2d);

fn conv2d_gradients(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[2, 2, 7, 6], 5)?.requires_grad();
        let w = c.rand(&[3, 2, 3, 3], 6)?.requires_grad();
        let b = c.rand(&[3], 7)?.requires_grad();
        let y = x.conv2d(&w, Some(&b), (2, 2), (1, 1))?;
        let g = y.tanh()?.sum_all()?.backward()?;
        Ok(vec![
            g.get(&x).unwrap().clone(),
            g.get(&w).unwrap().clone(),
            g.get(&b).unwrap().clone(),
        ])
    })
}
test_device!(conv2d_gradients);

fn pooling(dev: &Device) -> Result<()> {
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 8, 7], 8)?;
        Ok(vec![
            x.max_pool2d((2, 2), (2, 2), (0, 0))?,
            x.max_pool2d((3, 3), (2, 2), (1, 1))?,
            x.avg_pool2d((2, 2), (2, 2), (0, 0))?,
            x.avg_pool2d((3, 2), (1, 2), (1, 1))?,
        ])
    })
}
test_device!(pooling);

fn pooling_gradients(dev: &Device) -> Result<()> {
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[1, 2, 6, 6], 9)?.requires_grad();
        let w = c.rand(&[1, 2, 3, 3], 10)?;
        let loss = x
            .max_pool2d((2, 2), (2, 2), (0, 0))?
            .mul(&w)?
            .sum_all()?
            .add(&x.avg_pool2d((3, 3), (3, 3), (0, 0))?.sqr()?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(pooling_gradients);

fn grouped_dilated_conv(dev: &Device) -> Result<()> {
    use neurite::{Conv1dArgs, Conv2dArgs, ConvPadding, ConvTranspose2dArgs};
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 4, 9, 8], 21)?;
        let b = c.rand(&[4], 22)?;
        let x1 = c.rand(&[2, 4, 13], 25)?;
        Ok(vec![
            x.conv2d_with(
                &c.rand(&[4, 2, 3, 3], 23)?,
                Some(&b),
                &Conv2dArgs::default()
                    .groups(2)
                    .dilation((2, 1))
                    .padding([2, 1, 0, 3])
                    .stride((1, 2)),
            )?,
            x.conv2d_with(
                &c.rand(&[4, 1, 3, 2], 24)?,
                None,
                &Conv2dArgs::default().groups(4).padding(ConvPadding::Same).dilation(2),
            )?,
            x1.conv1d(
                &c.rand(&[2, 2, 3], 26)?,
                None,
                &Conv1dArgs::default().groups(2).stride(2).dilation(3).padding(1),
            )?,
            x.conv_transpose2d(
                &c.rand(&[4, 3, 3, 2], 27)?,
                None,
                &ConvTranspose2dArgs::default()
                    .stride(2)
                    .padding(1)
                    .output_padding((1, 0)),
            )?,
            x.conv_transpose2d(
                &c.rand(&[4, 1, 2, 2], 28)?,
                Some(&c.rand(&[2], 29)?),
                &ConvTranspose2dArgs::default()
                    .groups(2)
                    .stride((1, 3))
                    .dilation((3, 1))
                    .output_padding((2, 2)),
            )?,
        ])
    })
}
test_device!(grouped_dilated_conv);

fn grouped_dilated_conv_gradients(dev: &Device) -> Result<()> {
    use neurite::{Conv2dArgs, ConvTranspose2dArgs};
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[2, 4, 7, 6], 31)?.requires_grad();
        let w = c.rand(&[6, 2, 3, 2], 32)?.requires_grad();
        let wt = c.rand(&[4, 1, 3, 3], 33)?.requires_grad();
        let y = x.conv2d_with(
            &w,
            None,
            &Conv2dArgs::default().groups(2).dilation(2).padding([1, 2, 2, 0]),
        )?;
        let z = x.conv_transpose2d(
            &wt,
            None,
            &ConvTranspose2dArgs::default()
                .groups(2)
                .stride(2)
                .padding(1)
                .output_padding(1)
                .dilation((1, 2)),
        )?;
        let g = y.tanh()?.sum_all()?.add(&z.sqr()?.sum_all()?)?.backward()?;
        Ok(vec![
            g.get(&x).unwrap().clone(),
            g.get(&w).unwrap().clone(),
            g.get(&wt).unwrap().clone(),
        ])
    })
}
test_device!(grouped_dilated_conv_gradients);

fn pooling_modes(dev: &Device) -> Result<()> {
    use neurite::{AvgPool2dArgs, MaxPool2dArgs};
    parity(dev, &FLOATS, |c| {
        let x = c.rand(&[2, 3, 9, 8], 41)?;
        let (v, i) =
            x.max_pool2d_with_indices(&MaxPool2dArgs::new(3).stride(2).padding(1).dilation(2).ceil_mode(true))?;
        let (v2, i2) = x.max_pool2d_with_indices(&MaxPool2dArgs::new(2))?;
        Ok(vec![
            v,
            i,
            x.avg_pool2d_with(
                &AvgPool2dArgs::new(3)
                    .stride(2)
                    .padding(1)
                    .ceil_mode(true)
                    .count_include_pad(false),
            )?,
            x.avg_pool2d_with(&AvgPool2dArgs::new((2, 3)).stride(3).padding(1).ceil_mode(true))?,
            x.avg_pool2d_with(&AvgPool2dArgs::new(2).stride(1).divisor_override(Some(3)))?,
            v2.max_unpool2d(&i2, 2, 2, 0, Some([9, 8]))?,
        ])
    })
}
test_device!(pooling_modes);

fn pooling_modes_gradients(dev: &Device) -> Result<()> {
    use neurite::{AvgPool2dArgs, MaxPool2dArgs};
    parity(dev, &[DType::F32, DType::F64], |c| {
        let x = c.rand(&[1, 2, 7, 7], 42)?.requires_grad();
        let (v, i) = x.max_pool2d_with_indices(&MaxPool2dArgs::new(2).ceil_mode(true))?;
        let unpooled = v.max_unpool2d(&i, 2, 2, 0, Some([7, 7]))?;
        let avg = x.avg_pool2d_with(
            &AvgPool2dArgs::new(3)
                .stride(2)
                .padding(1)
                .ceil_mode(true)
                .count_include_pad(false),
        )?;
        let loss = unpooled
            .mul(&c.rand(&[1, 2, 7, 7], 43)?)?
            .sum_all()?
            .add(&avg.sqr()?.sum_all()?)?;
        let g = loss.backward()?;
        Ok(vec![g.get(&x).unwrap().clone()])
    })
}
test_device!(pooling_modes_gradients);
