from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_q2_output(env):
    from autograder.public.notebook import assert_check
    assert_check('q2.output', env)

@test_case(points=1, hidden=False)
def test_q2_params(env):
    from autograder.public.notebook import assert_check
    assert_check('q2.params', env)

