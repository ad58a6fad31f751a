from kama._cli import main

raise SystemExit(main())
