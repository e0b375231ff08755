# The "classic" CNN uses residual blocks (skip connections).
# %%
# include: imports
# %%
# include: ref_block
# %%
# include: resnet_builder
# %%
def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    return build_resnet(input_shape, num_classes)
