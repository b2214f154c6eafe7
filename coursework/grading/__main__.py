import sys

from coursework.grading.grader import main

sys.exit(main())
